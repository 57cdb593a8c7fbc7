/** /_ping, /version, /info and /events. */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EVENT_FILTER_KEYS, validateEventFilters } from '../../events/index.js';
import { filtersParam, timestampParam } from '../query.js';
import { openJsonStream } from '../json-stream.js';
import { eventToJson } from '../event-json.js';
import { MAX_API_VERSION } from '../api-version.js';
import type { SystemBackend } from './system-backend.js';

const PING_HEADERS = {
  'Api-Version': MAX_API_VERSION,
  'Builder-Version': '1',
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Swarm: 'inactive',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
};

const TIMESTAMP = Type.String({ pattern: '^-?[0-9]+(\\.[0-9]{1,9})?$' });

const EventsQuery = Type.Object({
  since: Type.Optional(Type.Union([TIMESTAMP, Type.Literal('')])),
  until: Type.Optional(Type.Union([TIMESTAMP, Type.Literal('')])),
  filters: Type.Optional(Type.String()),
});

export function registerSystemRoutes(app: FastifyInstance, backend: SystemBackend): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get('/_ping', { exposeHeadRoute: false }, async (_req, reply) => {
    reply.headers(PING_HEADERS).type('text/plain; charset=utf-8');
    return 'OK';
  });
  typed.head('/_ping', async (_req, reply) => {
    reply.headers(PING_HEADERS).header('Content-Length', '0').type('text/plain; charset=utf-8');
    return reply.send();
  });

  typed.get('/version', async () => backend.version());
  typed.get('/info', async () => backend.info());

  typed.get('/events', { schema: { querystring: EventsQuery } }, async (req, reply) => {
    const since = timestampParam('since', req.query.since);
    const until = timestampParam('until', req.query.until);
    const filters = filtersParam(req.query.filters, EVENT_FILTER_KEYS);
    validateEventFilters(filters);
    const stream = openJsonStream(reply);
    try {
      for await (const event of backend.subscribeEvents({ since, until, filters, signal: stream.signal })) {
        await stream.write(eventToJson(event));
      }
    } finally {
      stream.end();
    }
  });
}
