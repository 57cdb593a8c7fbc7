/**
 * One fast-check arbitrary per Engine API route (from the spec's extract, engine-routes.json):
 * hostile path parameters, query values and bodies, with the few constraints that keep the fuzzer
 * from starting real work: no container start, no host outside 127.0.0.1, no host bridge names.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FuzzRequest } from './fuzz-client.js';
import { hostileBody, pathSegment, queryValue, shapedValue, type SchemaShape } from './hostile-values.js';

export interface SpecRoute {
  method: string;
  path: string;
  operationId: string;
  pathParams: string[];
  query: { name: string; type: string }[];
  body?: { contentType: string; schema: SchemaShape };
}

export function loadSpecRoutes(): { api: string; routes: SpecRoute[] } {
  return JSON.parse(readFileSync(fileURLToPath(new URL('./engine-routes.json', import.meta.url)), 'utf8')) as { api: string; routes: SpecRoute[] };
}

export interface FuzzWorld {
  /** Names and IDs of the objects the test made first, so that some requests reach them. */
  known: string[];
  /** An image every generated /containers/create may name. */
  image: string;
  /** 127.0.0.1:<port> where nothing listens: the only registry any pull, push or login may reach. */
  deadRegistry: string;
  /** A body just over berthd's JSON limit. */
  oversized: Buffer;
}

/** Routes whose success deletes what the fuzzer's other requests aim at: run last. */
export function isDestructive(route: SpecRoute): boolean {
  return route.method === 'DELETE' || route.path.endsWith('/prune');
}

/** Containers the fuzzer made are named fuzzc-*; the generated ones adjective_surname. */
function mayNameAFuzzContainer(segment: string): boolean {
  let text: string;
  try {
    text = decodeURIComponent(segment).replace(/^\/+/, '');
  } catch {
    return false;
  }
  return /^[0-9a-f]+$/i.test(text) || /^fuzzc/i.test(text) || /^[a-z]+_[a-z]+\d?$/.test(text);
}

/** Start and restart would run a container: their IDs never reach one the fuzzer made. */
const STARTS_A_CONTAINER = new Set(['POST /containers/{id}/start', 'POST /containers/{id}/restart']);

const tail = fc.string({ maxLength: 24 });

function constrainedQuery(key: string, name: string, world: FuzzWorld): fc.Arbitrary<string | string[]> | undefined {
  const dead = world.deadRegistry;
  if (name === 'fromImage' || name === 'term' || (name === 'remote' && key !== 'POST /build')) return tail.map((t) => `${dead}/${t}`);
  if (name === 'remote') return fc.constantFrom('', `http://${dead}/context.tar`);
  if (name === 'fromSrc') return fc.constantFrom('-', `http://${dead}/rootfs.tar`, '');
  if (name === 'name' && (key === 'POST /containers/create' || key === 'POST /containers/{id}/rename')) return tail.map((t) => `fuzzc-${t}`);
  return undefined;
}

function bodyFor(key: string, route: SpecRoute, world: FuzzWorld): fc.Arbitrary<{ kind: string; text: string | Buffer }> | undefined {
  if (!route.body) return undefined;
  if (!route.body.contentType.includes('json')) {
    // Tars (build context, load, import, archive): garbage, empty or truncated, never a real context.
    return fc.oneof(
      fc.uint8Array({ maxLength: 4_096 }).map((b) => ({ kind: 'garbage-tar', text: Buffer.from(b) })),
      fc.constant({ kind: 'empty', text: '' }),
      fc.constant({ kind: 'truncated-tar', text: Buffer.alloc(700, 0x41) }),
    );
  }
  const hostile = hostileBody(route.body.schema, world.oversized);
  if (key === 'POST /containers/create' || key === 'POST /commit') {
    // Most creates name the real image, so the checks past the image lookup are reached.
    const shaped = fc.tuple(fc.boolean(), fc.boolean()).chain(([typedOnly, keepImage]) =>
      shapedValue(route.body!.schema, 0, typedOnly).map((value) => {
        const body = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
        return { kind: typedOnly ? 'create-typed' : 'create', text: JSON.stringify(keepImage ? body : { ...body, Image: world.image }) };
      }),
    );
    return fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 2, arbitrary: hostile });
  }
  if (key === 'POST /auth') {
    // A login without serveraddress goes to Docker Hub (as Docker's): every body that parses names
    // the dead registry; null and empty bodies (read as {}) become an array, which is refused.
    return hostile.map((b) => {
      try {
        const parsed = JSON.parse(b.text.toString()) as unknown;
        if (parsed === null) return { kind: b.kind, text: '[null]' };
        if (typeof parsed === 'object' && !Array.isArray(parsed)) return { kind: b.kind, text: JSON.stringify({ ...parsed, serveraddress: world.deadRegistry }) };
      } catch {
        // not JSON: refused before any login
      }
      return b.text.length === 0 ? { kind: b.kind, text: '[null]' } : b;
    });
  }
  if (key === 'POST /networks/create') {
    // Names the test can find again; never a bridge name (an existing host device would be taken).
    return hostile.map((b) => {
      try {
        const parsed = JSON.parse(b.text.toString()) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          const body = { ...(parsed as Record<string, unknown>) };
          if (typeof body['Name'] === 'string') body['Name'] = `fuzzn-${body['Name']}`;
          if (body['Options'] && typeof body['Options'] === 'object') delete (body['Options'] as Record<string, unknown>)['com.docker.network.bridge.name'];
          return { kind: b.kind, text: JSON.stringify(body) };
        }
      } catch {
        // not JSON
      }
      return b;
    });
  }
  return hostile;
}

/** The arbitrary of one route's requests. */
export function routeRequests(route: SpecRoute, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const key = `${route.method} ${route.path}`;
  let segment = pathSegment(world.known);
  if (STARTS_A_CONTAINER.has(key)) segment = pathSegment([]).filter((s) => !mayNameAFuzzContainer(s));
  const pushOrDistribution = key === 'POST /images/{name}/push' || key === 'GET /distribution/{name}/json' || key === 'POST /plugins/pull';
  const params = fc.tuple(...route.pathParams.map(() => (pushOrDistribution ? tail.map((t) => `${world.deadRegistry}/${encodeURIComponent(t)}`) : segment)));
  const queryEntries = route.query.map((q) => fc.option(constrainedQuery(key, q.name, world) ?? queryValue(q.type, q.name), { nil: undefined, freq: 2 }).map((v) => [q.name, v] as const));
  const bogus = fc.array(fc.tuple(fc.string({ maxLength: 10 }), queryValue('string', 'bogus')), { maxLength: 2 });
  const body = bodyFor(key, route, world) ?? fc.constant(undefined);
  return fc.record({ params, query: fc.tuple(...queryEntries), bogus, body, chunked: fc.boolean(), raw: fc.boolean() }).map(({ params, query, bogus, body, chunked, raw }) => {
    let path = route.path;
    route.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, params[i]!)));
    const search = new URLSearchParams();
    for (const [name, value] of [...query, ...bogus]) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
    }
    const prefix = raw ? '' : '/v1.50';
    const qs = search.toString();
    const request: FuzzRequest = { method: route.method, target: `${prefix}${path}${qs ? `?${qs}` : ''}`, note: body?.kind ?? 'no body' };
    // fast-check prints counterexamples: a line each, not a 16 MB body.
    Object.defineProperty(request, fc.toStringMethod, { enumerable: false, value: () => `${request.method} ${request.target.slice(0, 200)} [${request.note}]` });
    if (body !== undefined) {
      request.body = body.text;
      request.contentType = route.body!.contentType.includes('json') ? 'application/json' : route.body!.contentType;
      request.chunked = body.kind === 'oversized' && chunked;
    }
    return request;
  });
}
