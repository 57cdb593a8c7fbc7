/** /_ping, /version, /info and /events. */
import type { Router } from '../router.js';
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

export function registerSystemRoutes(app: Router, backend: SystemBackend): void {
  app.get('/_ping', async (_req, reply) => {
    reply.headers(PING_HEADERS).type('text/plain; charset=utf-8');
    return 'OK';
  });
  app.head('/_ping', async (_req, reply) => {
    reply.headers(PING_HEADERS).header('Content-Length', '0').type('text/plain; charset=utf-8');
    return reply.send();
  });

  app.get('/version', async () => backend.version());
  app.get('/info', async () => backend.info());

  app.get('/events', async (req, reply) => {
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
