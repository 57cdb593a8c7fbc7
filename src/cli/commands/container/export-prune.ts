/** `berth export` and `berth container prune`. */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { filtersToJson } from '../../filter-flags.js';
import { deletedSection, reclaimedLine } from '../../prune-report.js';

export const exportCommand = defineCommand({
  name: 'export',
  usage: 'berth export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  flags: { output: { type: 'string', short: 'o', usage: 'Write to a file, instead of STDOUT' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth export" requires exactly 1 argument.\nSee 'berth export --help'.`, 1);
    const isTerminal = (ctx.stdout as { isTTY?: boolean }).isTTY === true;
    if (!flags.output && isTerminal) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const response = await ctx.client().request('GET', `/containers/${encodeURIComponent(positionals[0]!)}/export`);
    if (flags.output) {
      // Written beside the target and renamed, so a failed export leaves no half file.
      const temp = `${flags.output}.berth-tmp`;
      await pipeline(response.body, createWriteStream(temp));
      await rename(temp, flags.output);
    } else {
      await pipeline(response.body, ctx.stdout);
    }
    return 0;
  },
});

export const containerPruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth container prune [OPTIONS]',
  summary: 'Remove all stopped containers',
  flags: {
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
    filter: { type: 'strings', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
  } as const,
  async run({ flags }, ctx) {
    if (!flags.force) throw new CliError('berth container prune removes every stopped container: add -f to confirm (berth does not prompt)', 1);
    const result = await ctx.client().json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: filtersToJson(flags.filter) } });
    const deleted = result.ContainersDeleted ?? [];
    ctx.stdout.write(deletedSection('Deleted Containers', deleted) + reclaimedLine(result.SpaceReclaimed));
    return 0;
  },
});
