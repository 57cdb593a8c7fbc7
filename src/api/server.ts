/**
 * The Docker Engine API on node:http: the router for ordinary routes, the hijack router for
 * upgraded ones (attach, exec start), one http.Server per listening address.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { TlsSettings } from './listen.js';
import type { Logger } from 'pino';
import { HijackRouter } from './hijack.js';
import { Router } from './router.js';
import { registerSystemRoutes } from './routes/system-routes.js';
import type { SystemBackend } from './routes/system-backend.js';
import type { ImageBackend } from './routes/image-backend.js';
import { registerImageRoutes } from './routes/image-routes.js';
import type { DistributionBackend } from './routes/distribution-backend.js';
import type { ContainerBackend } from './routes/container-backend.js';
import { registerContainerRoutes } from './routes/container-routes.js';
import { registerBuildRoutes, type BuildBackend } from './routes/build-routes.js';
import { registerNetworkRoutes } from './routes/network-routes.js';
import type { NetworkBackend } from './routes/network-backend.js';
import { registerVolumeRoutes } from './routes/volume-routes.js';
import type { VolumeBackend } from './routes/volume-backend.js';
import { registerExecRoutes } from './routes/exec-routes.js';
import type { ExecService } from '../containers/exec-service.js';

export interface ApiBackends {
  system: SystemBackend;
  images?: ImageBackend;
  distribution?: DistributionBackend;
  containers?: ContainerBackend;
  execs?: ExecService;
  networks?: NetworkBackend;
  volumes?: VolumeBackend;
  builds?: BuildBackend & { diskUsage(): unknown[] };
}

export interface ApiOptions {
  logger: Logger;
  /** Value of the `Server` header, e.g. "Berth/0.1.0 (linux)". */
  serverHeader: string;
  /** Largest JSON body accepted (streamed bodies such as tars are not limited). */
  jsonBodyLimit?: number;
  /** Extra routes (later resources register themselves here). */
  register?: (app: Router, hijack: HijackRouter) => void;
}

export interface Api {
  app: Router;
  hijack: HijackRouter;
  /** A fresh server bound to this API (one per listening address); with `tls`, HTTPS. */
  createHttpServer(tls?: TlsSettings): Server | TlsServer;
  close(): Promise<void>;
}

export async function buildApi(backends: ApiBackends, options: ApiOptions): Promise<Api> {
  const app = new Router({ logger: options.logger, serverHeader: options.serverHeader, jsonBodyLimit: options.jsonBodyLimit ?? 16 * 1024 * 1024 });
  const hijack = new HijackRouter();
  registerSystemRoutes(app, backends.system);
  if (backends.containers) registerContainerRoutes(app, hijack, backends.containers);
  if (backends.networks) registerNetworkRoutes(app, backends.networks);
  if (backends.volumes) registerVolumeRoutes(app, backends.volumes);
  if (backends.execs) registerExecRoutes(app, hijack, backends.execs);
  if (backends.images) registerImageRoutes(app, backends.images, backends.distribution, backends.volumes, backends.containers ? () => backends.containers!.diskUsage() : undefined, backends.builds ? () => backends.builds!.diskUsage() : undefined);
  if (backends.builds) registerBuildRoutes(app, backends.builds);
  options.register?.(app, hijack);

  const servers = new Set<Server | TlsServer>();
  return {
    app,
    hijack,
    createHttpServer(tls?: TlsSettings): Server | TlsServer {
      // An idle keep-alive connection stays open, as dockerd's does (no IdleTimeout): clients pool
      // connections for as long as they like, and a server-side close racing a client that reuses
      // the connection after a pause fails that request with EPIPE / ECONNRESET mid-body.
      const httpOptions = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 0 };
      const server: Server | TlsServer = tls
        ? createTlsServer(
            // allowHalfOpen as node:http has it: a hijacked client half-closes (close_notify) when its
            // stdin ends, and output must keep flowing to it until the container stops.
            { ...httpOptions, allowHalfOpen: true, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: tls.verify, rejectUnauthorized: tls.verify, minVersion: 'TLSv1.2' },
            app.handle,
          )
        : createServer(httpOptions, app.handle);
      server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => void hijack.handle(req, socket, head));
      servers.add(server);
      server.on('close', () => servers.delete(server));
      return server;
    },
    async close(): Promise<void> {
      await Promise.all(
        [...servers].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
