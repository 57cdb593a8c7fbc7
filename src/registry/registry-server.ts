/**
 * The OCI Distribution API over node:http: routing, auth, streaming blobs in and out, and every
 * error through registry-errors.ts.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { RegistryError, registryErrorResponse } from './registry-errors.js';
import { checkName, parseBlobDigest, parseManifestReference } from './names.js';
import { RegistryStorage, uploadHeaders } from './registry-storage.js';
import type { Access, Caller, Need, RegistryAuth } from './registry-auth.js';
import { MediaTypes } from '../oci/index.js';

export interface RegistryServerOptions {
  storage: RegistryStorage;
  auth: RegistryAuth;
  logger: Logger;
  readOnly: boolean;
  deleteEnabled: boolean;
  maxManifestBytes: number;
  tls?: { certFile: string; keyFile: string };
}

const API_HEADERS = { 'Docker-Distribution-API-Version': 'registry/2.0' };

type Handler = (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, url: URL, access: Access) => Promise<void>;

interface Route {
  methods: string[];
  pattern: RegExp;
  need: (match: RegExpExecArray, method: string, url: URL) => Need;
  handler: Handler;
}

// Repository names may hold slashes, so the fixed suffixes anchor each route.
const NAME = '(.+?)';

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
  res.writeHead(status, { ...API_HEADERS, ...headers, ...(body === undefined ? { 'Content-Length': 0 } : { 'Content-Length': Buffer.byteLength(body) }) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    req.resume();
    throw new RegistryError('MANIFEST_TOO_LARGE', `manifest is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RegistryError('MANIFEST_TOO_LARGE', `manifest is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!match) return undefined;
  const start = match[1] ? Number(match[1]) : Math.max(0, size - Number(match[2]));
  const end = match[1] && match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start > end || start >= size) throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', undefined, { 'Content-Range': `bytes */${size}` });
  return { start, end };
}

export function createRegistryServer(options: RegistryServerOptions): Server {
  const { storage, auth } = options;
  const pull = (m: RegExpExecArray): Need => ({ type: 'repository', name: m[1]!, actions: ['pull'] });
  const push = (m: RegExpExecArray): Need => ({ type: 'repository', name: m[1]!, actions: ['pull', 'push'] });
  const writable = () => {
    if (options.readOnly) throw new RegistryError('UNSUPPORTED', 'the registry is read-only');
  };

  const routes: Route[] = [
    {
      methods: ['GET', 'HEAD'],
      pattern: /^\/v2\/?$/,
      need: () => ({ type: 'none' }),
      handler: async (_req, res) => json(res, 200, {}),
    },
    {
      methods: ['GET'],
      pattern: /^\/v2\/_catalog$/,
      need: () => ({ type: 'registry', name: 'catalog', actions: ['*'] }),
      handler: async (_req, res, _m, url) => {
        const all = await storage.repositories();
        const { items, link } = paginate(all, url, '/v2/_catalog');
        json(res, 200, { repositories: items }, link);
      },
    },
    {
      methods: ['GET'],
      pattern: new RegExp(`^/v2/${NAME}/tags/list$`),
      need: pull,
      handler: async (_req, res, m, url) => {
        const name = checkName(m[1]!);
        if (!(await storage.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', undefined, { name });
        const { items, link } = paginate(await storage.tags(name), url, `/v2/${name}/tags/list`);
        json(res, 200, { name, tags: items }, link);
      },
    },
    {
      methods: ['GET', 'HEAD', 'PUT', 'DELETE'],
      pattern: new RegExp(`^/v2/${NAME}/manifests/([^/]+)$`),
      need: (m, method) => (method === 'PUT' ? push(m) : method === 'DELETE' ? { type: 'repository', name: m[1]!, actions: ['delete'] } : pull(m)),
      handler: async (req, res, m) => {
        const name = checkName(m[1]!);
        const reference = parseManifestReference(decodeURIComponent(m[2]!));
        if (req.method === 'PUT') {
          writable();
          const body = await readBody(req, options.maxManifestBytes);
          const stored = await storage.putManifest(name, reference, body, req.headers['content-type']);
          send(res, 201, {
            Location: `/v2/${name}/manifests/${stored.digest}`,
            'Docker-Content-Digest': stored.digest,
            ...(stored.subject ? { 'OCI-Subject': stored.subject } : {}),
          });
          return;
        }
        if (req.method === 'DELETE') {
          writable();
          if (!options.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled (start berth-registry with --delete)');
          await storage.deleteManifest(name, reference);
          send(res, 202, {});
          return;
        }
        const manifest = await storage.resolveManifest(name, reference);
        const headers = { 'Content-Type': manifest.mediaType, 'Docker-Content-Digest': manifest.digest, ETag: `"${manifest.digest}"` };
        if (req.method === 'HEAD') {
          res.writeHead(200, { ...API_HEADERS, ...headers, 'Content-Length': manifest.size });
          res.end();
          return;
        }
        send(res, 200, headers, await storage.manifestBytes(manifest.digest));
      },
    },
    {
      methods: ['GET', 'HEAD', 'DELETE'],
      pattern: new RegExp(`^/v2/${NAME}/blobs/(sha256:[^/]+|[^/]+:[^/]+)$`),
      need: (m, method) => (method === 'DELETE' ? { type: 'repository', name: m[1]!, actions: ['delete'] } : pull(m)),
      handler: async (req, res, m) => {
        const name = checkName(m[1]!);
        const digest = parseBlobDigest(decodeURIComponent(m[2]!));
        if (req.method === 'DELETE') {
          writable();
          if (!options.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled (start berth-registry with --delete)');
          await storage.unlinkBlob(name, digest);
          send(res, 202, {});
          return;
        }
        const blob = await storage.blob(name, digest);
        const range = parseRange(req.headers.range, blob.size);
        const headers: Record<string, string | number> = { ...API_HEADERS, 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, ETag: `"${digest}"`, 'Accept-Ranges': 'bytes' };
        if (range) {
          res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
        } else {
          res.writeHead(200, { ...headers, 'Content-Length': blob.size });
        }
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        await streamOut(storage.blobStream(digest, range), res);
      },
    },
    {
      methods: ['POST'],
      pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`),
      need: push,
      handler: async (req, res, m, url, access) => {
        writable();
        const name = checkName(m[1]!);
        const mountDigest = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        // A mount serves the source's blob to the target: it needs pull on the source. Without
        // `from` nothing is mounted (as distribution): the caller would have to be allowed to
        // pull some repository holding the blob, and a token's scopes cannot say which ones.
        // Where a mount cannot be done, the spec's answer is a plain upload session (202).
        if (mountDigest && from) {
          const digest = parseBlobDigest(mountDigest);
          const source = checkName(from);
          if (access.allows({ type: 'repository', name: source, actions: ['pull'] }) && (await storage.mount(name, digest, source))) {
            req.resume();
            send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
            return;
          }
        }
        const digestParam = url.searchParams.get('digest');
        if (digestParam) {
          const digest = parseBlobDigest(digestParam);
          await storage.putBlob(name, digest, req, contentLength(req));
          send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
          return;
        }
        req.resume();
        const uuid = await storage.startUpload(name);
        send(res, 202, { ...uploadHeaders(name, uuid, 0), 'OCI-Chunk-Min-Length': 0 });
      },
    },
    {
      methods: ['GET', 'PATCH', 'PUT', 'DELETE'],
      pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/([^/]+)$`),
      need: (m, method) => (method === 'GET' ? pull(m) : push(m)),
      handler: async (req, res, m, url) => {
        const name = checkName(m[1]!);
        const uuid = m[2]!;
        if (req.method === 'GET') {
          const size = await storage.uploadSize(name, uuid);
          send(res, 204, uploadHeaders(name, uuid, size));
          return;
        }
        writable();
        if (req.method === 'DELETE') {
          await storage.cancelUpload(name, uuid);
          send(res, 204, {});
          return;
        }
        if (req.method === 'PATCH') {
          const range = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
          const start = range ? Number(range[1]) : undefined;
          if (range && Number(range[2]) < Number(range[1])) throw new RegistryError('RANGE_INVALID', 'invalid Content-Range');
          const size = await storage.appendUpload(name, uuid, req, start, contentLength(req));
          send(res, 202, uploadHeaders(name, uuid, size));
          return;
        }
        const digest = parseBlobDigest(url.searchParams.get('digest') ?? '');
        const hasBody = (contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] === 'chunked';
        const blob = await storage.finishUpload(name, uuid, digest, hasBody ? req : undefined);
        if (!hasBody) req.resume();
        send(res, 201, { Location: `/v2/${name}/blobs/${blob.digest}`, 'Docker-Content-Digest': blob.digest });
      },
    },
    {
      methods: ['GET'],
      pattern: new RegExp(`^/v2/${NAME}/referrers/([^/]+)$`),
      need: pull,
      handler: async (_req, res, m, url) => {
        const name = checkName(m[1]!);
        const digest = parseBlobDigest(decodeURIComponent(m[2]!));
        const artifactType = url.searchParams.get('artifactType');
        let manifests = await storage.referrers(name, digest);
        if (artifactType) manifests = manifests.filter((d) => d.artifactType === artifactType);
        json(res, 200, { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, artifactType ? { 'OCI-Filters-Applied': 'artifactType', 'Content-Type': MediaTypes.ociIndex } : { 'Content-Type': MediaTypes.ociIndex });
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const url = new URL(req.url ?? '/', 'http://registry');
    const method = req.method ?? 'GET';
    const caller: Caller = { authorization: req.headers.authorization, address: req.socket.remoteAddress ?? '' };
    try {
      // URL parsing would quietly resolve "a/../b"; a name with dot segments is invalid instead.
      if (/(^|\/)\.\.?(\/|$)|%2e%2e|%2f/i.test(rawPath)) throw new RegistryError('NAME_INVALID', 'invalid repository name', { path: rawPath });
      if (url.pathname === '/token') {
        if (auth.mode !== 'token') throw new RegistryError('UNSUPPORTED', 'this registry does not issue tokens');
        json(res, 200, await auth.issueToken(caller, url.searchParams.get('service') ?? undefined, url.searchParams.getAll('scope')));
        return;
      }
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (!match) continue;
        if (!route.methods.includes(method)) throw new RegistryError('UNSUPPORTED', `${method} is not supported here`);
        const access = await auth.authorize(caller, route.need(match, method, url));
        await route.handler(req, res, match, url, access);
        return;
      }
      throw new RegistryError('NAME_UNKNOWN', 'no such endpoint', { path: url.pathname });
    } catch (err) {
      const response = registryErrorResponse(err);
      if (response.status >= 500) options.logger.error({ err, method, path: url.pathname }, 'request failed');
      if (!res.headersSent) {
        if (!req.readableEnded) req.resume();
        send(res, response.status, { 'Content-Type': 'application/json', ...response.headers }, method === 'HEAD' ? undefined : response.body);
      } else {
        res.destroy();
      }
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, listener)
    : createHttpServer(listener);
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  return server;
}

function paginate(all: string[], url: URL, path: string): { items: string[]; link: Record<string, string> } {
  const last = url.searchParams.get('last');
  const nParam = url.searchParams.get('n');
  let items = last ? all.filter((item) => item > last) : all;
  if (nParam === null) return { items, link: {} };
  const n = Number(nParam);
  if (!Number.isInteger(n) || n < 0) throw new RegistryError('UNSUPPORTED', 'n must be a non-negative integer');
  const more = items.length > n;
  items = items.slice(0, n);
  const next: Record<string, string> = more && items.length ? { Link: `<${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"` } : {};
  return { items, link: next };
}

function streamOut(source: NodeJS.ReadableStream, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    source.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      resolve();
    });
    source.pipe(res);
  });
}
