/** /volumes: list, inspect, create, remove, prune. */
import { matchesLabel } from '../../lib/label-filter.js';
import type { ApiRequest, Router } from '../router.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { boolParam, filtersParam } from '../query.js';
import type { VolumeBackend } from './volume-backend.js';
import { compareApiVersions } from '../api-version.js';

type Query = Record<string, string | string[] | undefined>;
type NameRequest = ApiRequest<{ name: string }>;

export function registerVolumeRoutes(app: Router, volumes: VolumeBackend): void {
  app.get('/volumes', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['dangling', 'name', 'label', 'driver']);
    const dangling = filters.get('dangling');
    for (const d of dangling ?? []) if (!['true', 'false', '1', '0'].includes(d)) throw new InvalidArgumentError(`invalid filter 'dangling=${d}'`);
    const list = volumes.list().filter((v) => {
      const name = v['Name'] as string;
      const labels = (v['Labels'] ?? {}) as Record<string, string>;
      if (filters.get('name') && !filters.get('name')!.some((f) => name.includes(f))) return false;
      if (filters.get('driver') && !filters.get('driver')!.includes(v['Driver'] as string)) return false;
      if (filters.get('label') && !filters.get('label')!.every((f) => matchesLabel(labels, f))) return false;
      if (dangling) {
        const want = dangling.includes('true') || dangling.includes('1');
        if (volumes.inUse(name) === want) return false;
      }
      return true;
    });
    return { Volumes: list, Warnings: [] };
  });

  app.get('/volumes/:name', async (req: NameRequest) => volumes.inspect(req.params.name));

  app.post('/volumes/create', async (req, reply) => {
    const body = (req.body ?? {}) as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('a JSON object body is required');
    const created = await volumes.create({ name: body.Name || undefined, driver: body.Driver, options: body.DriverOpts ?? {}, labels: body.Labels ?? {} });
    return reply.code(201).send(created);
  });

  app.delete('/volumes/:name', async (req: NameRequest, reply) => {
    await volumes.remove(req.params.name, { force: boolParam(req.query['force']) });
    return reply.code(204).send();
  });

  app.post('/volumes/prune', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['label', 'all']);
    // Before API 1.42 prune took every unused volume, named ones too; from 1.42 only anonymous ones unless all=true.
    const all = compareApiVersions(req.apiVersion, '1.42') < 0 || (filters.get('all') ?? []).some((v) => v === 'true' || v === '1');
    const result = await volumes.prune({ all, labels: filters.get('label') ?? [] });
    return { VolumesDeleted: result.deleted, SpaceReclaimed: result.reclaimed };
  });
}
