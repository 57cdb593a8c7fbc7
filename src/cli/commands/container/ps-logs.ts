/** `berth ps` and `berth logs`. */
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { formatItems } from '../../format/formatter.js';
import { filtersToJson } from '../../filter-flags.js';
import { toApiTimestamp } from '../../go-time.js';
import { demultiplex } from '../../attach-stream.js';
import { humanDuration } from '../../../lib/human-units.js';
import { ellipsis } from '../image/image-inspect-history.js';
import { goTimeString } from '../image/image-list.js';

interface Summary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Status: string;
  State: string;
  Ports: { PrivatePort: number; PublicPort?: number; Type: string; IP?: string }[];
  Labels: Record<string, string>;
}

export const psCommand = defineCommand({
  name: 'ps',
  aliases: ['ls', 'list'],
  usage: 'berth ps [OPTIONS]',
  summary: 'List containers',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Show all containers (default shows just running)' },
    filter: { type: 'strings', short: 'f', usage: 'Filter output based on conditions provided' },
    format: { type: 'string', usage: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
    last: { type: 'int', short: 'n', usage: 'Show n last created containers (includes all states)', default: -1 },
    latest: { type: 'bool', short: 'l', usage: 'Show the latest created container (includes all states)' },
    'no-trunc': { type: 'bool', usage: "Don't truncate output" },
    quiet: { type: 'bool', short: 'q', usage: 'Only display container IDs' },
    size: { type: 'bool', short: 's', usage: 'Display total file sizes' },
  } as const,
  async run({ flags }, ctx) {
    const limit = flags.latest ? 1 : flags.last;
    const containers = await ctx.client().json<Summary[]>('GET', '/containers/json', {
      query: { all: flags.all ? '1' : undefined, limit: limit > 0 ? String(limit) : undefined, filters: filtersToJson(flags.filter) },
    });
    const noTrunc = flags['no-trunc'];
    const now = ctx.clock.nowMs();
    const rows = containers.map((c) => ({
      ID: noTrunc ? c.Id : c.Id.slice(0, 12),
      Image: c.Image,
      // strconv.Quote, as the docker CLI prints it
      Command: JSON.stringify(noTrunc ? c.Command : ellipsis(c.Command, 20)),
      CreatedAt: goTimeString(c.Created),
      RunningFor: `${humanDuration(now - c.Created * 1000)} ago`,
      Status: c.Status,
      State: c.State,
      Ports: c.Ports.map((p) => (p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', '),
      Names: c.Names.map((n) => n.replace(/^\//, '')).join(','),
      Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    }));
    ctx.stdout.write(formatItems(rows, {
      format: flags.format,
      quiet: flags.quiet,
      quietTemplate: '{{.ID}}',
      defaultTable: '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
      headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', CreatedAt: 'CREATED AT', Status: 'STATUS', State: 'STATE', Ports: 'PORTS', Names: 'NAMES', Labels: 'LABELS' },
    }));
    return 0;
  },
});

export const logsCommand = defineCommand({
  name: 'logs',
  usage: 'berth logs [OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  flags: {
    follow: { type: 'bool', short: 'f', usage: 'Follow log output' },
    timestamps: { type: 'bool', short: 't', usage: 'Show timestamps' },
    tail: { type: 'string', short: 'n', usage: 'Number of lines to show from the end of the logs', default: 'all' },
    since: { type: 'string', usage: 'Show logs since timestamp or relative' },
    until: { type: 'string', usage: 'Show logs before a timestamp or relative' },
    details: { type: 'bool', usage: 'Show extra details provided to logs' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth logs" requires exactly 1 argument.\nSee 'berth logs --help'.`, 1);
    const now = ctx.clock.nowMs();
    const response = await ctx.client().request('GET', `/containers/${positionals[0]}/logs`, {
      query: {
        stdout: '1',
        stderr: '1',
        follow: flags.follow ? '1' : undefined,
        timestamps: flags.timestamps ? '1' : undefined,
        tail: flags.tail,
        since: flags.since ? toApiTimestamp(flags.since, now) : undefined,
        until: flags.until ? toApiTimestamp(flags.until, now) : undefined,
      },
    });
    // A TTY container's log is raw bytes, not frames.
    if (String(response.headers['content-type'] ?? '').includes('raw-stream')) {
      for await (const chunk of response.body) ctx.stdout.write(chunk as Buffer);
    } else {
      await demultiplex(response.body, ctx.stdout, ctx.stderr);
    }
    return 0;
  },
});
