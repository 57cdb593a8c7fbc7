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
import { InvalidArgumentError } from '../lib/errors.js';
import { bodyShapeFor, checkBodyShape, type BodyShape } from './body-shape.js';

export type Query = Record<string, string | string[] | undefined>;

export interface ApiRequest<Params = Record<string, string>> {
  method: string;
  /** The path without its version prefix, query string included. */
  url: string;
  /** The API version the client asked for in the path (the newest one without a prefix). */
  apiVersion: string;
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

interface Route {
  handler: RouteHandler;
  /** The spec's shape of the route's JSON body, checked before the handler runs. */
  bodyShape?: BodyShape;
}

export class Router {
  private readonly routes = new RouteTable<Route>();

  constructor(private readonly options: RouterOptions) {}

  private add(method: string, path: string, handler: RouteHandler): void {
    this.routes.add(method, path, { handler, bodyShape: bodyShapeFor(method, path) });
  }

  get<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.add('GET', path, handler);
  }

  head<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.add('HEAD', path, handler);
  }

  post<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.add('POST', path, handler);
  }

  put<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.add('PUT', path, handler);
  }

  delete<Params = Record<string, string>>(path: string, handler: RouteHandler<Params>): void {
    this.add('DELETE', path, handler);
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
    let reply = new ApiReply(res, log);
    try {
      const { version, path: url } = splitVersionPrefix(req.url ?? '/');
      if (version) checkApiVersion(version);
      const queryAt = url.indexOf('?');
      const path = queryAt === -1 ? url : url.slice(0, queryAt);
      const method = req.method ?? 'GET';
      // Without a prefix moby answers in its newest version's shapes.
      const apiVersion = version ?? MAX_API_VERSION;
      reply = new ApiReply(res, log, { method: method === 'HEAD' ? 'GET' : method, path, version: apiVersion });
      const match = this.routes.find(method, path) ?? (method === 'HEAD' ? this.routes.find('GET', path) : undefined);
      if (!match) {
        sendError(reply, 404, 'page not found');
        return;
      }
      const query = queryAt === -1 ? {} : (parseQueryString(url.slice(queryAt + 1)) as Query);
      checkNoNul(match.params, query);
      const body = isJsonRequest(req) ? await readJsonBody(req, this.options.jsonBodyLimit) : undefined;
      if (match.value.bodyShape) checkBodyShape(match.value.bodyShape, body);
      const result = await match.value.handler({ method, url, apiVersion, params: match.params, query, headers: req.headers, body, raw: req, log }, reply);
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

/**
 * No name, ID, path or filter of the Engine API holds a NUL byte, and the system calls they reach
 * refuse one (Node throws a TypeError): a 400 here, before any service sees it.
 */
function checkNoNul(params: Record<string, string>, query: Query): void {
  for (const [name, value] of Object.entries(params)) {
    if (value.includes('\0')) throw new InvalidArgumentError(`invalid ${name === '*' ? 'name' : name}: it contains a NUL byte`);
  }
  for (const [name, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value ?? ''];
    if (name.includes('\0') || values.some((v) => v.includes('\0'))) throw new InvalidArgumentError(`invalid query parameter ${JSON.stringify(name)}: it contains a NUL byte`);
  }
}

/** The docker CLI shows `message` only when Content-Type is exactly application/json (no charset). */
function sendError(reply: ApiReply, status: number, message: string): void {
  reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(errorBody(message)));
}
