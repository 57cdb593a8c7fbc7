/**
 * One response of an ordinary (not upgraded) route. Routes either send a value (JSON, text or
 * bytes), return it, or take the raw ServerResponse over with hijack() to stream.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { shapeForVersion } from './versioned-responses.js';

/** What a JSON answer is shaped by: the route it answers and the API version the client asked for. */
export interface ReplyContext {
  method: string;
  /** The path without the /vX.YY prefix and without the query string. */
  path: string;
  version: string;
}

export class ApiReply {
  private status = 200;
  private taken = false;

  constructor(
    readonly raw: ServerResponse,
    readonly log: Logger,
    private readonly context?: ReplyContext,
  ) {}

  /** True once a response is under way, by send() or by a hijacking route. */
  get sent(): boolean {
    return this.raw.headersSent || this.raw.writableEnded || this.taken;
  }

  get hijacked(): boolean {
    return this.taken;
  }

  code(status: number): this {
    this.status = status;
    return this;
  }

  header(name: string, value: string | number): this {
    this.raw.setHeader(name, value);
    return this;
  }

  headers(values: Record<string, string | number>): this {
    for (const [name, value] of Object.entries(values)) this.raw.setHeader(name, value);
    return this;
  }

  type(contentType: string): this {
    return this.header('Content-Type', contentType);
  }

  /** The route writes the response itself through `raw` from now on. */
  hijack(): void {
    this.taken = true;
  }

  /** Objects go out as JSON in the shape of the requested API version, strings as text, buffers as bytes; nothing as an empty body. */
  send(payload?: unknown): this {
    if (this.raw.headersSent || this.raw.writableEnded) return this;
    const res = this.raw;
    res.statusCode = this.status;
    if (payload === undefined || payload === null) {
      if (this.status !== 204 && this.status !== 304) res.setHeader('Content-Length', 0);
      res.end();
    } else if (typeof payload === 'string' || payload instanceof Uint8Array) {
      if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
      res.setHeader('Content-Length', Buffer.byteLength(payload));
      res.end(payload);
    } else {
      const shaped = this.context ? shapeForVersion(this.context.method, this.context.path, this.context.version, payload) : payload;
      const body = JSON.stringify(shaped);
      if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
    }
    return this;
  }
}
