/** `berth image prune`. */
import { defineCommand } from '../../command.js';
import { filtersToJson } from '../../filter-flags.js';
import { humanSize } from '../../../lib/human-units.js';
import { confirm } from '../../prompt.js';

export const imagePruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth image prune [OPTIONS]',
  summary: 'Remove unused images',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Remove all unused images, not just dangling ones' },
    filter: { type: 'strings', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
  } as const,
  async run({ flags: options }, ctx) {
    const warning = options.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!options.force && !(await confirm(ctx, warning))) return 0;
    const filters = [...options.filter, `dangling=${options.all ? 'false' : 'true'}`];
    const report = await ctx.client().json<{ ImagesDeleted: ({ Untagged?: string; Deleted?: string })[] | null; SpaceReclaimed: number }>('POST', '/images/prune', {
      query: { filters: filtersToJson(filters) },
    });
    const deleted = report.ImagesDeleted ?? [];
    if (deleted.length) {
      ctx.stdout.write('Deleted Images:\n');
      for (const item of deleted) ctx.stdout.write(item.Untagged ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted}\n`);
      ctx.stdout.write('\n');
    }
    ctx.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
    return 0;
  },
});
