/** `berth volume create/ls/inspect/rm/prune`. */
import { defineCommand, type Command } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { formatItems, formatOne } from '../../format/formatter.js';
import { filtersToJson } from '../../filter-flags.js';
import { forEachName } from '../../each-name.js';
import { deletedSection, reclaimedLine } from '../../prune-report.js';

interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels: Record<string, string> | null;
  Scope: string;
  CreatedAt: string;
}

const pairs = (list: string[]) => Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]));

const createCommand = defineCommand({
  name: 'create',
  usage: 'berth volume create [OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  flags: {
    driver: { type: 'string', short: 'd', usage: 'Specify volume driver name', default: 'local' },
    label: { type: 'strings', usage: 'Set metadata for a volume' },
    opt: { type: 'strings', short: 'o', usage: 'Set driver specific options' },
    name: { type: 'string', usage: 'Specify volume name' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length > 1) throw new CliError(`"berth volume create" requires at most 1 argument.\nSee 'berth volume create --help'.`, 1);
    if (positionals[0] && flags.name && positionals[0] !== flags.name) throw new CliError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`, 1);
    const created = await ctx.client().json<VolumeJson>('POST', '/volumes/create', { body: { Name: positionals[0] ?? flags.name, Driver: flags.driver, DriverOpts: pairs(flags.opt), Labels: pairs(flags.label) } });
    ctx.stdout.write(`${created.Name}\n`);
    return 0;
  },
});

const listCommand = defineCommand({
  name: 'ls',
  aliases: ['list'],
  usage: 'berth volume ls [OPTIONS]',
  summary: 'List volumes',
  flags: {
    filter: { type: 'strings', short: 'f', usage: 'Provide filter values (e.g. "dangling=true")' },
    format: { type: 'string', usage: 'Format output using a custom template' },
    quiet: { type: 'bool', short: 'q', usage: 'Only display volume names' },
  } as const,
  async run({ flags }, ctx) {
    const { Volumes } = await ctx.client().json<{ Volumes: VolumeJson[] | null }>('GET', '/volumes', { query: { filters: filtersToJson(flags.filter) } });
    const rows = [...(Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => ({
      Name: v.Name,
      Driver: v.Driver,
      Scope: v.Scope,
      Mountpoint: v.Mountpoint,
      Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
    }));
    ctx.stdout.write(formatItems(rows, {
      format: flags.format ?? '',
      quiet: flags.quiet,
      quietTemplate: '{{.Name}}',
      defaultTable: '{{.Driver}}\t{{.Name}}',
      headers: { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS' },
    }));
    return 0;
  },
});

const inspectCommand = defineCommand({
  name: 'inspect',
  usage: 'berth volume inspect [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  flags: { format: { type: 'string', short: 'f', usage: 'Format output using a custom template' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth volume inspect" requires at least 1 argument.\nSee 'berth volume inspect --help'.`, 1);
    const found: unknown[] = [];
    let failed = false;
    for (const name of positionals) {
      try {
        found.push(await ctx.client().json('GET', `/volumes/${encodeURIComponent(name)}`));
      } catch (err) {
        failed = true;
        ctx.stderr.write(`${(err as Error).message}\n`);
      }
    }
    if (flags.format) for (const v of found) ctx.stdout.write(formatOne(v, flags.format));
    else ctx.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    return failed ? 1 : 0;
  },
});

const removeCommand = defineCommand({
  name: 'rm',
  aliases: ['remove'],
  usage: 'berth volume rm [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  flags: { force: { type: 'bool', short: 'f', usage: 'Force the removal of one or more volumes' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth volume rm" requires at least 1 argument.\nSee 'berth volume rm --help'.`, 1);
    return forEachName(ctx, positionals, (name) => ctx.client().request('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: flags.force ? '1' : undefined } }).then(() => undefined));
  },
});

const pruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth volume prune [OPTIONS]',
  summary: 'Remove unused local volumes',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Remove all unused volumes, not just anonymous ones' },
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
    filter: { type: 'strings', usage: 'Provide filter values (e.g. "label=<label>")' },
  } as const,
  async run({ flags }, ctx) {
    if (!flags.force) throw new CliError('berth volume prune removes unused volumes: add -f to confirm (berth does not prompt)', 1);
    const filters = [...flags.filter, ...(flags.all ? ['all=true'] : [])];
    const result = await ctx.client().json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: filtersToJson(filters) } });
    const deleted = result.VolumesDeleted ?? [];
    ctx.stdout.write(deletedSection('Deleted Volumes', deleted) + reclaimedLine(result.SpaceReclaimed));
    return 0;
  },
});

export const volumeGroup: Command = {
  name: 'volume',
  usage: 'berth volume COMMAND',
  summary: 'Manage volumes',
  flags: {},
  subcommands: [createCommand, inspectCommand, listCommand, pruneCommand, removeCommand],
  run: async () => 0,
};
