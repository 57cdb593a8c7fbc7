/**
 * An HTTP client for any Docker Engine API daemon (berthd or dockerd) over a unix socket or TCP,
 * with the docker CLI's version negotiation: HEAD /_ping, then min(our version, the daemon's).
 */
import { request as httpRequest, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { CannotConnectError, DaemonError } from './cli-errors.js';
import { InvalidArgumentError } from '../lib/errors.js';

export const CLIENT_API_VERSION = '1.50';
const FALLBACK_API_VERSION = '1.24';

export interface EngineEndpoint {
  /** The address as the user gave it, for messages. */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
}

export function parseEngineHost(url: string): EngineEndpoint {
  if (url.startsWith('unix://')) return { url, socketPath: url.slice('unix://'.length) };
  if (url.startsWith('tcp://') || url.startsWith('http://')) {
    const parsed = new URL(url.replace(/^tcp:/, 'http:'));
    return { url, host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 2375) };
  }
  if (url.startsWith('/')) return { url: `unix://${url}`, socketPath: url };
  throw new InvalidArgumentError(`unable to parse docker host \`${url}\``);
}

export interface RequestOptions {
  /** Query parameters; a list repeats the parameter (names=a&names=b). */
  query?: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** A raw body streamed with chunked encoding (tar uploads). */
  bodyStream?: NodeJS.ReadableStream;
  headers?: Record<string, string>;
}

export interface EngineResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

export class EngineClient {
  private negotiated?: string;

  constructor(
    readonly endpoint: EngineEndpoint,
    private readonly options: { pinnedVersion?: string; userAgent: string },
  ) {
    if (options.pinnedVersion) this.negotiated = options.pinnedVersion;
  }

  /** The API version requests use; negotiates on first call unless pinned. */
  async apiVersion(): Promise<string> {
    if (!this.negotiated) {
      const ping = await this.ping();
      const server = ping.apiVersion ?? FALLBACK_API_VERSION;
      this.negotiated = compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    }
    return this.negotiated;
  }

  /** HEAD /_ping, falling back to GET as the moby client does. */
  async ping(): Promise<{ apiVersion?: string; osType?: string; headers: IncomingHttpHeaders }> {
    let response = await this.raw('HEAD', '/_ping', {});
    response.body.resume();
    if (response.status !== 200 && response.status !== 500) {
      response = await this.raw('GET', '/_ping', {});
      response.body.resume();
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    return { apiVersion: header('api-version'), osType: header('ostype'), headers: response.headers };
  }

  /** A versioned request; error statuses become DaemonError with the daemon's message. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<EngineResponse> {
    const version = await this.apiVersion();
    const response = await this.raw(method, `/v${version}${path}`, options);
    if (response.status >= 400) throw new DaemonError(response.status, await readErrorMessage(response));
    return response;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const text = await readAll(response.body);
    return (text.length > 0 ? JSON.parse(text) : undefined) as T;
  }

  /** The non-empty lines of a streaming response, as they arrive. */
  async *lines(response: EngineResponse): AsyncGenerator<string> {
    let buffered = '';
    for await (const chunk of response.body) {
      buffered += String(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield line;
      }
    }
    if (buffered.trim()) yield buffered.trim();
  }

  /** Newline-delimited JSON messages of a streaming response, as they arrive. */
  async *jsonLines<T>(response: EngineResponse): AsyncGenerator<T> {
    for await (const line of this.lines(response)) yield JSON.parse(line) as T;
  }

  private raw(method: string, path: string, options: RequestOptions): Promise<EngineResponse> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
    }
    const query = search.toString();
    const headers: Record<string, string> = { 'User-Agent': this.options.userAgent, ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (options.bodyStream) {
      headers['Content-Type'] ??= 'application/x-tar';
      headers['Transfer-Encoding'] = 'chunked';
    } else if (method === 'POST' || method === 'PUT') {
      headers['Content-Length'] = '0';
    }
    const { socketPath, host, port } = this.endpoint;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          method,
          path: query ? `${path}?${query}` : path,
          headers: { Host: socketPath ? 'api.moby.localhost' : `${host}:${port}`, ...headers },
          ...(socketPath ? { socketPath } : { host, port }),
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH'].includes(err.code ?? '')) {
          const hint = err.code === 'EACCES' ? ` (permission denied: run as root or as a member of the socket's group)` : '';
          reject(new CannotConnectError(`Cannot connect to the berth daemon at ${this.endpoint.url}. Is the daemon running?${hint}`));
        } else {
          reject(err);
        }
      });
      if (options.bodyStream) {
        options.bodyStream.on('error', (err) => req.destroy(err));
        options.bodyStream.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }
}

async function readAll(stream: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Docker's rule: a JSON body gives `message`; anything else is shown as it is. */
async function readErrorMessage(response: EngineResponse): Promise<string> {
  const text = await readAll(response.body);
  if (String(response.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // fall through to the raw text
    }
  }
  if (text.trim() === '') return `${response.status}: check if the server supports the requested API version`;
  return text.trim();
}
