/**
 * ADD <url>: one GET streamed to a new file, with a connect timeout, a total timeout, a size cap
 * checked while the body streams in, and at most `maxRedirects` redirects (Go's client stops at
 * 10). A failed download leaves no file behind.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { open, rm } from 'node:fs/promises';
import { InvalidArgumentError } from '../lib/errors.js';

export interface UrlDownloadLimits {
  /** From asking for a connection to having one. */
  connectTimeoutMs: number;
  /** The whole download, redirects included. */
  timeoutMs: number;
  /** Bytes the body may have. */
  maxBytes: number;
  maxRedirects: number;
}

export const DEFAULT_URL_DOWNLOAD_LIMITS: UrlDownloadLimits = {
  connectTimeoutMs: 30_000,
  timeoutMs: 30 * 60_000,
  maxBytes: 16 * 1024 ** 3,
  maxRedirects: 10,
};

/** A download that failed: the build step's error, as Docker words it where it has words. */
export class UrlDownloadError extends InvalidArgumentError {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class TimeoutError extends Error {}

/** Downloads `url` into `file` (which must not exist). Returns the body's size. */
export async function downloadToFile(url: string, file: string, limits: UrlDownloadLimits): Promise<number> {
  const fail = (why: string) => new UrlDownloadError(`failed to GET ${url}: ${why}`);
  const total = new AbortController();
  const timer = setTimeout(() => total.abort(new TimeoutError()), limits.timeoutMs);
  const explain = (err: unknown): unknown => {
    if (err instanceof UrlDownloadError) return err;
    if (total.signal.aborted) return fail(`timed out after ${limits.timeoutMs / 1000}s`);
    if (err instanceof TimeoutError) return fail(`no connection within ${limits.connectTimeoutMs / 1000}s`);
    return fail((err as Error).message);
  };
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    clearTimeout(timer);
    throw fail('invalid URL');
  }
  let created = false;
  try {
    let response: IncomingMessage;
    for (let redirects = 0; ; redirects++) {
      response = await get(current, limits.connectTimeoutMs, total.signal);
      const status = response.statusCode ?? 0;
      if (!REDIRECTS.has(status)) break;
      response.resume();
      if (redirects >= limits.maxRedirects) throw fail(`stopped after ${limits.maxRedirects} redirects`);
      const location = response.headers.location;
      if (!location) throw fail(`redirect ${status} without a Location`);
      current = new URL(location, current);
      if (current.protocol !== 'http:' && current.protocol !== 'https:') throw fail(`redirect to unsupported protocol ${current.protocol}`);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.resume();
      throw new UrlDownloadError(`failed to GET ${url} with status ${status} ${response.statusMessage ?? ''}`.trimEnd());
    }
    const tooLarge = () => fail(`the body is larger than ${limits.maxBytes} bytes, the limit for ADD`);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    const handle = await open(file, 'wx', 0o600);
    created = true;
    let size = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limits.maxBytes) {
          response.destroy();
          throw tooLarge();
        }
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
    return size;
  } catch (err) {
    if (created) await rm(file, { force: true });
    throw explain(err);
  } finally {
    clearTimeout(timer);
  }
}

/** One GET; resolves with the response once its headers are in. */
function get(url: URL, connectTimeoutMs: number, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined);
    if (!request) {
      reject(new UrlDownloadError(`unsupported protocol ${url.protocol}`));
      return;
    }
    // A fresh connection per request (no agent), so the connect timeout always means a connect.
    const req = request(url, { method: 'GET', agent: false, signal, headers: { 'user-agent': 'berth-builder' } });
    const connectTimer = setTimeout(() => req.destroy(new TimeoutError()), connectTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('response', (response) => {
      clearTimeout(connectTimer);
      resolve(response);
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.end();
  });
}
