/**
 * Hijacked endpoints (attach, exec start): the client sends `Connection: Upgrade`, the engine
 * answers `HTTP/1.1 101 UPGRADED` and the socket becomes a raw byte stream both ways. Node routes
 * such requests to the server's 'upgrade' event, outside the ordinary router, so they are routed here.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkApiVersion, MAX_API_VERSION, splitVersionPrefix } from './api-version.js';
import { errorBody, toHttpError } from './http-errors.js';
import { InvalidArgumentError } from '../lib/errors.js';
import { RouteTable } from './route-table.js';
import { streamContentType } from './versioned-responses.js';

export interface HijackContext {
  params: Record<string, string>;
  query: URLSearchParams;
  apiVersion: string;
  /** The request body (exec start sends JSON), already read. */
  body: Buffer;
  /** Writes the 101 answer; after it the socket carries the raw stream. */
  upgrade(contentType: 'application/vnd.docker.raw-stream' | 'application/vnd.docker.multiplexed-stream'): Duplex;
}

export type HijackHandler = (ctx: HijackContext) => Promise<void>;

const MAX_BODY = 1024 * 1024;

export class HijackRouter {
  private readonly routes = new RouteTable<HijackHandler>();

  /** Registers `path` such as "/containers/:id/attach". */
  add(method: string, path: string, handler: HijackHandler): void {
    this.routes.add(method, path, handler);
  }

  /** Handles one upgrade request: route it, read its body, hand the socket to the handler. */
  async handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://berth');
      const { version, path } = splitVersionPrefix(url.pathname);
      if (version) checkApiVersion(version);
      const match = this.routes.find(req.method ?? 'GET', path);
      if (!match) {
        writeHttpError(socket, 404, 'page not found');
        return;
      }
      const body = await readBody(req, socket, head);
      const apiVersion = version ?? MAX_API_VERSION;
      await match.value({
        params: match.params,
        query: url.searchParams,
        apiVersion,
        body,
        upgrade: (contentType) => {
          socket.write(
            `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${streamContentType(apiVersion, contentType === 'application/vnd.docker.multiplexed-stream')}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${MAX_API_VERSION}\r\n\r\n`,
          );
          return socket;
        },
      });
    } catch (err) {
      const { status, message } = toHttpError(err);
      // After the 101 the client reads raw bytes; moby writes a plain HTTP error there too.
      if (!socket.destroyed) writeHttpError(socket, status, message);
    }
  }
}

function readBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isFinite(length) || length < 0 || length > MAX_BODY) {
    return Promise.reject(new InvalidArgumentError('invalid Content-Length for a hijacked request'));
  }
  if (head.length >= length) {
    if (head.length > length) socket.unshift(head.subarray(length));
    return Promise.resolve(head.subarray(0, length));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [head];
    let have = head.length;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      const all = Buffer.concat(chunks);
      if (all.length > length) socket.unshift(all.subarray(length));
      resolve(all.subarray(0, length));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function writeHttpError(socket: Duplex, status: number, message: string): void {
  const body = errorBody(message);
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
