/**
 * The Docker Engine API as one request handler: fastify for ordinary routes, the hijack router
 * for upgraded ones. Every path works with and without a /vX.YY prefix, every response carries
 * moby's identifying headers, and every error leaves through http-errors.ts.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { checkApiVersion, MAX_API_VERSION, splitVersionPrefix } from './api-version.js';
import { errorBody, toHttpError } from './http-errors.js';
import { HijackRouter } from './hijack.js';
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

/** The docker CLI shows `message` only when Content-Type is exactly application/json (no charset). */
function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(errorBody(message)));
}

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
  logger: FastifyBaseLogger;
  /** Value of the `Server` header, e.g. "Berth/0.1.0 (linux)". */
  serverHeader: string;
  /** Largest JSON body accepted (streamed bodies such as tars are not limited). */
  jsonBodyLimit?: number;
  /** Extra routes (later resources register themselves here). */
  register?: (app: FastifyInstance, hijack: HijackRouter) => void;
}

export interface Api {
  app: FastifyInstance;
  hijack: HijackRouter;
  /** A fresh http.Server bound to this API (one per listening address). */
  createHttpServer(): Server;
  close(): Promise<void>;
}

export async function buildApi(backends: ApiBackends, options: ApiOptions): Promise<Api> {
  const apiVersions = new WeakMap<IncomingMessage, string>();
  let handler: RequestListener | undefined;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.jsonBodyLimit ?? 16 * 1024 * 1024,
    // Image names carry "/" and ":" in paths (/images/localhost:5000/app/json); keep them intact.
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 2048 },
    serverFactory: (h) => {
      handler = h;
      return createServer();
    },
    rewriteUrl: (req) => {
      const { version, path } = splitVersionPrefix(req.url ?? '/');
      if (version) apiVersions.set(req, version);
      return path;
    },
    ajv: { customOptions: { coerceTypes: false } },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // Tar streams arrive as text/plain, application/x-tar or nothing at all: hand routes the stream.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.addHook('onRequest', async (req, reply) => {
    reply.raw.setHeader('Api-Version', MAX_API_VERSION);
    reply.raw.setHeader('Server', options.serverHeader);
    reply.raw.setHeader('Ostype', 'linux');
    reply.raw.setHeader('Docker-Experimental', 'false');
    const version = apiVersions.get(req.raw);
    if (version) checkApiVersion(version);
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, message } = toHttpError(err);
    if (status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    else req.log.debug({ url: req.url, status, message }, 'request refused');
    if (status === 304) return reply.code(304).send();
    return sendError(reply, status, message);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'page not found'));

  const hijack = new HijackRouter();
  registerSystemRoutes(app, backends.system);
  if (backends.containers) registerContainerRoutes(app, hijack, backends.containers);
  if (backends.networks) registerNetworkRoutes(app, backends.networks);
  if (backends.volumes) registerVolumeRoutes(app, backends.volumes);
  if (backends.execs) registerExecRoutes(app, hijack, backends.execs);
  if (backends.images) registerImageRoutes(app, backends.images, backends.distribution, backends.volumes, backends.containers ? () => backends.containers!.diskUsage() : undefined, backends.builds ? () => backends.builds!.diskUsage() : undefined);
  if (backends.builds) registerBuildRoutes(app, backends.builds);
  options.register?.(app, hijack);
  await app.ready();
  const requestHandler = handler;
  if (!requestHandler) throw new Error('fastify did not hand over its request handler');

  const servers = new Set<Server>();
  return {
    app,
    hijack,
    createHttpServer(): Server {
      const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, requestHandler);
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
      await app.close();
    },
  };
}
