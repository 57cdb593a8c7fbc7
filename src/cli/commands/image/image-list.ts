/** `berth images` / `berth image ls`. */
import { defineCommand } from '../../command.js';
import { formatItems } from '../../format/formatter.js';
import { filtersToJson } from '../../filter-flags.js';
import { humanDuration, humanSize } from '../../../lib/human-units.js';
import type { ImageSummary } from '../../../images/index.js';

const flags = {
  all: { type: 'bool', short: 'a', usage: 'Show all images (default hides intermediate images)' },
  digests: { type: 'bool', usage: 'Show digests' },
  filter: { type: 'strings', short: 'f', usage: 'Filter output based on conditions provided' },
  format: { type: 'string', usage: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
  'no-trunc': { type: 'bool', usage: "Don't truncate output" },
  quiet: { type: 'bool', short: 'q', usage: 'Only show image IDs' },
} as const;

const HEADERS = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE' };

export function shortImageId(id: string, noTrunc: boolean): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}

/** docker's Go time format for CreatedAt: "2026-11-28 07:37:16 +0000 UTC". */
export function goTimeString(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

export function imageRows(images: ImageSummary[], nowMs: number, noTrunc: boolean): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const image of images) {
    const base = {
      ID: shortImageId(image.Id, noTrunc),
      CreatedSince: `${humanDuration(nowMs - image.Created * 1000)} ago`,
      CreatedAt: goTimeString(image.Created),
      Size: humanSize(image.Size),
      Containers: image.Containers < 0 ? 'N/A' : String(image.Containers),
      SharedSize: image.SharedSize < 0 ? 'N/A' : humanSize(image.SharedSize),
      UniqueSize: image.SharedSize < 0 ? 'N/A' : humanSize(image.Size - image.SharedSize),
    };
    const digests = new Map<string, string>();
    for (const repoDigest of image.RepoDigests ?? []) {
      const at = repoDigest.indexOf('@');
      digests.set(repoDigest.slice(0, at), repoDigest.slice(at + 1));
    }
    if (!image.RepoTags?.length) {
      if (digests.size === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' });
      for (const [repo, digest] of digests) rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: digest });
      continue;
    }
    for (const tag of image.RepoTags) {
      const colon = tag.lastIndexOf(':');
      const repo = tag.slice(0, colon);
      rows.push({ ...base, Repository: repo, Tag: tag.slice(colon + 1), Digest: digests.get(repo) ?? '<none>' });
    }
  }
  return rows;
}

export const imageListCommand = defineCommand({
  name: 'images',
  aliases: ['ls', 'list'],
  usage: 'berth images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  flags,
  async run({ flags: options, positionals }, ctx) {
    const filters = [...options.filter];
    if (positionals[0]) filters.push(`reference=${positionals[0]}`);
    const images = await ctx.client().json<ImageSummary[]>('GET', '/images/json', {
      query: { all: options.all ? '1' : undefined, filters: filtersToJson(filters) },
    });
    if (options.quiet && (!options.format || options.format === 'table')) {
      const ids = [...new Set(images.map((i) => shortImageId(i.Id, options['no-trunc'])))];
      ctx.stdout.write(ids.map((id) => `${id}\n`).join(''));
      return 0;
    }
    const defaultTable = options.digests
      ? '{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
    ctx.stdout.write(formatItems(imageRows(images, ctx.clock.nowMs(), options['no-trunc']), { format: options.format, defaultTable, headers: HEADERS }));
    return 0;
  },
});
