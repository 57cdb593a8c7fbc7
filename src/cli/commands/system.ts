/** `berth system df` and `berth system prune`, with docker's tables and the same API calls. */
import { defineCommand } from '../command.js';
import { CliError } from '../cli-errors.js';
import { formatItems } from '../format/formatter.js';
import { filtersToJson } from '../filter-flags.js';
import { humanSize } from '../../lib/human-units.js';
import { deletedSection, reclaimedLine } from '../prune-report.js';

interface DiskUsage {
  LayersSize: number;
  Images: { Id: string; RepoTags: string[] | null; Size: number; SharedSize: number; Containers: number; Created: number }[] | null;
  Containers: { Id: string; Names: string[]; Image: string; State: string; SizeRw?: number; Status: string }[] | null;
  Volumes: { Name: string; UsageData?: { Size: number; RefCount: number } }[] | null;
  BuildCache: { ID: string; Type: string; Size: number; InUse: boolean; Shared: boolean; Description: string; UsageCount: number }[] | null;
}

function reclaimable(size: number, total: number): string {
  if (total <= 0) return humanSize(size);
  return `${humanSize(size)} (${Math.round((size * 100) / total)}%)`;
}

/** The four summary lines docker prints, with the same fields for --format. */
function summarize(df: DiskUsage): Record<string, string>[] {
  const images = df.Images ?? [];
  const activeImages = images.filter((i) => i.Containers > 0);
  const usedBytes = activeImages.reduce((sum, i) => sum + i.Size - Math.max(0, i.SharedSize), 0) + (activeImages.length ? Math.max(0, ...activeImages.map((i) => i.SharedSize)) : 0);
  const imageReclaim = Math.max(0, df.LayersSize - usedBytes);
  const containers = df.Containers ?? [];
  const containerSize = containers.reduce((sum, c) => sum + (c.SizeRw ?? 0), 0);
  const containerReclaim = containers.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((sum, c) => sum + (c.SizeRw ?? 0), 0);
  const volumes = df.Volumes ?? [];
  const volumeSize = volumes.reduce((sum, v) => sum + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volumeReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((sum, v) => sum + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cache = df.BuildCache ?? [];
  const cacheSize = cache.reduce((sum, c) => sum + c.Size, 0);
  const cacheReclaim = cache.filter((c) => !c.InUse).reduce((sum, c) => sum + c.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(activeImages.length), Size: humanSize(df.LayersSize), Reclaimable: reclaimable(imageReclaim, df.LayersSize) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => c.State === 'running' || c.State === 'paused').length), Size: humanSize(containerSize), Reclaimable: reclaimable(containerReclaim, containerSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volumeSize), Reclaimable: reclaimable(volumeReclaim, volumeSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheReclaim) },
  ];
}

export const systemDfCommand = defineCommand({
  name: 'df',
  usage: 'berth system df [OPTIONS]',
  summary: 'Show docker disk usage',
  flags: {
    format: { type: 'string', usage: 'Format output using a custom template' },
    verbose: { type: 'bool', short: 'v', usage: 'Show detailed information on space usage' },
  } as const,
  async run({ flags }, ctx) {
    const df = await ctx.client().json<DiskUsage>('GET', '/system/df');
    if (!flags.verbose) {
      ctx.stdout.write(formatItems(summarize(df), {
        format: flags.format ?? '',
        defaultTable: '{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
        headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
      }));
      return 0;
    }
    const section = (title: string, items: Record<string, string>[], table: string, headers: Record<string, string>) => {
      ctx.stdout.write(`${title}:\n${formatItems(items, { format: '', defaultTable: table, headers })}\n`);
    };
    section('Images space usage', (df.Images ?? []).map((i) => {
      const [repo, tag] = (i.RepoTags?.[0] ?? '<none>:<none>').split(/:(?=[^:/]*$)/);
      return { Repository: repo ?? '<none>', Tag: tag ?? '<none>', ID: i.Id.replace('sha256:', '').slice(0, 12), Size: humanSize(i.Size), SharedSize: humanSize(Math.max(0, i.SharedSize)), UniqueSize: humanSize(i.Size - Math.max(0, i.SharedSize)), Containers: String(i.Containers) };
    }), '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' });
    section('Containers space usage', (df.Containers ?? []).map((c) => ({ ID: c.Id.slice(0, 12), Image: c.Image, Size: humanSize(c.SizeRw ?? 0), Status: c.Status, Names: (c.Names[0] ?? '').replace(/^\//, '') })), '{{.ID}}\t{{.Image}}\t{{.Size}}\t{{.Status}}\t{{.Names}}', { ID: 'CONTAINER ID', Image: 'IMAGE', Size: 'SIZE', Status: 'STATUS', Names: 'NAMES' });
    section('Local Volumes space usage', (df.Volumes ?? []).map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(Math.max(0, v.UsageData?.Size ?? 0)) })), '{{.Name}}\t{{.Links}}\t{{.Size}}', { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' });
    section('Build cache usage', (df.BuildCache ?? []).map((c) => ({ ID: c.ID.slice(0, 12), Type: c.Type, Size: humanSize(c.Size), Shared: String(c.Shared), InUse: String(c.InUse), Description: c.Description.slice(0, 40) })), '{{.ID}}\t{{.Type}}\t{{.Size}}\t{{.InUse}}\t{{.Shared}}\t{{.Description}}', { ID: 'CACHE ID', Type: 'CACHE TYPE', Size: 'SIZE', InUse: 'IN USE', Shared: 'SHARED', Description: 'DESCRIPTION' });
    return 0;
  },
});

export const systemPruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth system prune [OPTIONS]',
  summary: 'Remove unused data',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Remove all unused images not just dangling ones' },
    volumes: { type: 'bool', usage: 'Prune anonymous volumes' },
    filter: { type: 'strings', usage: 'Provide filter values (e.g. "label=<key>=<value>")' },
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
  } as const,
  async run({ flags }, ctx) {
    if (!flags.force) throw new CliError('berth system prune removes stopped containers, unused networks, dangling images and build cache: add -f to confirm (berth does not prompt)', 1);
    const client = ctx.client();
    const filters = filtersToJson(flags.filter);
    let reclaimed = 0;
    const write = (title: string, lines: string[]) => ctx.stdout.write(deletedSection(title, lines));
    const containers = await client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters } });
    write('Deleted Containers', containers.ContainersDeleted ?? []);
    reclaimed += containers.SpaceReclaimed ?? 0;
    const networks = await client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters } });
    write('Deleted Networks', networks.NetworksDeleted ?? []);
    if (flags.volumes) {
      const volumes = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      write('Deleted Volumes', volumes.VolumesDeleted ?? []);
      reclaimed += volumes.SpaceReclaimed ?? 0;
    }
    const imageFilters = JSON.stringify({ ...(filters ? (JSON.parse(filters) as object) : {}), dangling: { [flags.all ? 'false' : 'true']: true } });
    const images = await client.json<{ ImagesDeleted: ({ Untagged?: string; Deleted?: string })[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imageFilters } });
    write('Deleted Images', (images.ImagesDeleted ?? []).map((i) => (i.Untagged ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`)));
    reclaimed += images.SpaceReclaimed ?? 0;
    const cache = await client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query: { all: flags.all ? '1' : undefined, filters } });
    write('Deleted build cache objects', cache.CachesDeleted ?? []);
    reclaimed += cache.SpaceReclaimed ?? 0;
    ctx.stdout.write(reclaimedLine(reclaimed));
    return 0;
  },
});
