/**
 * The Engine API's ordinary routes on node:http: every path with and without a /vX.YY prefix,
 * moby's identifying headers on every answer, JSON bodies parsed before the route runs, a HEAD
 * for every GET, and every error leaving through http-errors.ts.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Logger } from 'pino';
import { checkApiVersion, MAX_API_VERSION, splitVersionPrefix } from './api-version.js';
import { errorBody, toHttpError } from './http-errors.js';
import { ApiReply } from './api-reply.js';
import { isJsonRequest, readJsonBody } from './request-body.js';
import { RouteTable } from './route-table.js';

export type Query = Record<string, string | string[] | undefined>;

export interface ApiRequest<Params = Record<string, string>> {
  method: string;
  /** The path without its version prefix, query string included. */
  url: string;
  params: Params;
  query: Query;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined for an empty or non-JSON body (read those from `raw`). */
  body: unknown;
  raw: IncomingMessage;
  log: Logger;
}

/** Sends by calling reply.send(), or by returning the value to send. */
export type RouteHandler<Params = any> = (req: ApiRequest<Params>, reply: ApiReply) => unknown;

export interface RouterOptions {
  logger: Logger;
  /** Value of the `Server` header, e.g. "Berth/0.1.0 (linux)". */
  serverHeader: string;
  /** Largest JSON body accepted. */
  jsonBodyLimit: number;
}

export class Router {
  private readonly routes = new RouteTable<RouteHandler>();

  constructor(private readonly options: RouterOptions) {}

  get<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.routes.add('GET', path, handler);
  }

  head<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.routes.add('HEAD', path, handler);
  }

  post<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.routes.add('POST', path, handler);
  }

  put<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.routes.add('PUT', path, handler);
  }

  delete<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.routes.add('DELETE', path, handler);
  }

  /** The request listener for http.createServer. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      // Only a failure to write the error itself gets here: drop the connection, keep the daemon.
      this.options.logger.error({ err, url: req.url }, 'cannot answer the request');
      res.destroy();
    });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Api-Version', MAX_API_VERSION);
    res.setHeader('Server', this.options.serverHeader);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    const log = this.options.logger;
    const reply = new ApiReply(res, log);
    try {
      const { version, path: url } = splitVersionPrefix(req.url ?? '/');
      if (version) checkApiVersion(version);
      const queryAt = url.indexOf('?');
      const path = queryAt === -1 ? url : url.slice(0, queryAt);
      const method = req.method ?? 'GET';
      const match = this.routes.find(method, path) ?? (method === 'HEAD' ? this.routes.find('GET', path) : undefined);
      if (!match) {
        sendError(reply, 404, 'page not found');
        return;
      }
      const body = isJsonRequest(req) ? await readJsonBody(req, this.options.jsonBodyLimit) : undefined;
      const query = queryAt === -1 ? {} : (parseQueryString(url.slice(queryAt + 1)) as Query);
      const result = await match.value({ method, url, params: match.params, query, headers: req.headers, body, raw: req, log }, reply);
      if (!reply.sent) reply.send(result === reply ? undefined : result);
    } catch (err) {
      const { status, message } = toHttpError(err);
      if (status >= 500) log.error({ err, url: req.url }, 'request failed');
      else log.debug({ url: req.url, status, message }, 'request refused');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 304) reply.code(304).send();
      else sendError(reply, status, message);
    }
  }
}

/** The docker CLI shows `message` only when Content-Type is exactly application/json (no charset). */
function sendError(reply: ApiReply, status: number, message: string): void {
  reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(errorBody(message)));
}
