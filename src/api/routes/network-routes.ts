/** /networks: list, inspect, create, remove, connect, disconnect, prune. */
import { matchesLabel } from '../../lib/label-filter.js';
import type { ApiRequest, Router } from '../router.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { filtersParam, singleParam } from '../query.js';
import type { NetworkBackend, NetworkCreateBody } from './network-backend.js';

type Query = Record<string, string | string[] | undefined>;
type IdRequest = ApiRequest<{ id: string }>;

const PREDEFINED = new Set(['bridge', 'host', 'none']);

function objectBody<T>(body: unknown): T {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('a JSON object body is required');
  return body as T;
}

export function registerNetworkRoutes(app: Router, networks: NetworkBackend): void {
  app.get('/networks', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']);
    return networks.list().filter((n) => {
      const name = n['Name'] as string;
      const id = n['Id'] as string;
      const labels = (n['Labels'] ?? {}) as Record<string, string>;
      if (filters.get('name') && !filters.get('name')!.some((f) => name.includes(f))) return false;
      if (filters.get('id') && !filters.get('id')!.some((f) => id.startsWith(f))) return false;
      if (filters.get('driver') && !filters.get('driver')!.includes(n['Driver'] as string)) return false;
      if (filters.get('label') && !filters.get('label')!.every((f) => matchesLabel(labels, f))) return false;
      if (filters.get('scope') && !filters.get('scope')!.includes('local')) return false;
      const type = filters.get('type');
      if (type) {
        for (const t of type) if (t !== 'custom' && t !== 'builtin') throw new InvalidArgumentError(`invalid filter: 'type'='${t}'`);
        if (!type.includes(PREDEFINED.has(name) ? 'builtin' : 'custom')) return false;
      }
      return true;
    });
  });

  app.get('/networks/:id', async (req: IdRequest) => networks.inspect(req.params.id));

  app.post('/networks/create', async (req, reply) => {
    const body = objectBody<NetworkCreateBody>(req.body);
    if (!body.Name) throw new InvalidArgumentError('network name is required');
    if (body.EnableIPv6) throw new InvalidArgumentError('not supported by berth yet: IPv6 networks');
    const { id } = await networks.create(body);
    return reply.code(201).send({ Id: id, Warning: '' });
  });

  app.delete('/networks/:id', async (req: IdRequest, reply) => {
    await networks.remove(req.params.id);
    return reply.code(204).send();
  });

  app.post('/networks/:id/connect', async (req: IdRequest, reply) => {
    const body = objectBody<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null }>(req.body);
    if (!body.Container) throw new InvalidArgumentError('Container is required');
    await networks.connect(req.params.id, body.Container, body.EndpointConfig ?? {});
    return reply.code(200).send();
  });

  app.post('/networks/:id/disconnect', async (req: IdRequest, reply) => {
    const body = objectBody<{ Container?: string; Force?: boolean }>(req.body);
    if (!body.Container) throw new InvalidArgumentError('Container is required');
    await networks.disconnect(req.params.id, body.Container);
    return reply.code(200).send();
  });

  app.post('/networks/prune', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['label', 'until']);
    if (singleParam(req.query['filters']) && filters.get('until')) throw new InvalidArgumentError('not supported by berth yet: the until filter of network prune');
    return { NetworksDeleted: await networks.prune(filters.get('label') ?? []) };
  });
}
