/** `berth stats` (docker's table (CPU %, memory, network, block I/O, pids), live or `--no-stream`) and `berth update`. */
import { defineCommand, type CliContext } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { forEachName } from '../../each-name.js';
import { formatItems } from '../../format/formatter.js';
import { humanSize, parseByteSize } from '../../../lib/human-units.js';

interface StatsDoc {
  id: string;
  name: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats: { current?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

/** docker's binary units for memory ("540KiB"), decimal ones for I/O ("1.59kB"). */
function binarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number(value.toFixed(i === 0 ? 0 : value < 10 ? 3 : value < 100 ? 2 : 1)).toString()}${units[i]}`;
}

/** The row docker prints, with its formulas (CPU % over the host's CPU time, memory minus cache). */
export function statsRow(doc: StatsDoc, noTrunc: boolean): Record<string, string> {
  const cpuDelta = doc.cpu_stats.cpu_usage.total_usage - doc.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (doc.cpu_stats.system_cpu_usage ?? 0) - (doc.precpu_stats.system_cpu_usage ?? 0);
  const cpu = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * (doc.cpu_stats.online_cpus ?? 1) * 100 : 0;
  const stats = doc.memory_stats.stats ?? {};
  const cache = stats['total_inactive_file'] ?? stats['inactive_file'] ?? 0;
  const used = Math.max(0, (doc.memory_stats.usage ?? 0) - (cache < (doc.memory_stats.usage ?? 0) ? cache : 0));
  const limit = doc.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(doc.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return {
    Container: noTrunc ? doc.id : doc.id.slice(0, 12),
    ID: noTrunc ? doc.id : doc.id.slice(0, 12),
    Name: doc.name.replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${binarySize(used)} / ${binarySize(limit)}`,
    MemPerc: `${limit ? ((used / limit) * 100).toFixed(2) : '0.00'}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: '0B / 0B',
    PIDs: String(doc.pids_stats.current ?? 0),
  };
}

async function collect(ctx: CliContext, names: string[], all: boolean): Promise<Record<string, string>[]> {
  const client = ctx.client();
  let targets = names;
  if (targets.length === 0) {
    const list = await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: all ? '1' : undefined } });
    targets = list.map((c) => c.Id);
  }
  const docs = await Promise.all(targets.map((t) => client.json<StatsDoc>('GET', `/containers/${encodeURIComponent(t)}/stats`, { query: { stream: '0' } })));
  return docs.map((d) => statsRow(d, false));
}

export const statsCommand = defineCommand({
  name: 'stats',
  usage: 'berth stats [OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Show all containers (default shows just running)' },
    format: { type: 'string', usage: 'Format output using a custom template' },
    'no-stream': { type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    'no-trunc': { type: 'bool', usage: 'Do not truncate output' },
  } as const,
  async run({ flags, positionals }, ctx) {
    const render = async () =>
      formatItems(await collect(ctx, positionals, flags.all), {
        format: flags.format ?? '',
        defaultTable: '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
        headers: { Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' },
      });
    if (flags['no-stream']) {
      ctx.stdout.write(await render());
      return 0;
    }
    for (;;) {
      const table = await render();
      // As docker: redraw in place on a terminal.
      ctx.stdout.write(`\x1b[2J\x1b[H${table}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
});

export const updateCommand = defineCommand({
  name: 'update',
  usage: 'berth update [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  flags: {
    memory: { type: 'string', short: 'm', usage: 'Memory limit' },
    'memory-swap': { type: 'string', usage: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
    cpus: { type: 'string', usage: 'Number of CPUs' },
    'cpu-shares': { type: 'int', short: 'c', usage: 'CPU shares (relative weight)' },
    'cpuset-cpus': { type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    'pids-limit': { type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
    restart: { type: 'string', usage: 'Restart policy to apply when a container exits' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth update" requires at least 1 argument.\nSee 'berth update --help'.`, 1);
    const bytes = (text: string) => {
      if (text === '-1') return -1;
      const size = parseByteSize(text);
      if (size === undefined) throw new CliError(`invalid argument "${text}": invalid size: '${text}'`, 125);
      return size;
    };
    const body: Record<string, unknown> = {
      ...(flags.memory ? { Memory: bytes(flags.memory) } : {}),
      ...(flags['memory-swap'] ? { MemorySwap: bytes(flags['memory-swap']) } : {}),
      ...(flags.cpus ? { NanoCpus: Math.round(Number(flags.cpus) * 1e9) } : {}),
      ...(flags['cpu-shares'] ? { CpuShares: flags['cpu-shares'] } : {}),
      ...(flags['cpuset-cpus'] ? { CpusetCpus: flags['cpuset-cpus'] } : {}),
      ...(flags['pids-limit'] ? { PidsLimit: flags['pids-limit'] } : {}),
      ...(flags.restart ? { RestartPolicy: { Name: flags.restart.split(':')[0], MaximumRetryCount: Number(flags.restart.split(':')[1] ?? 0) } } : {}),
    };
    return forEachName(ctx, positionals, (name) => ctx.client().json('POST', `/containers/${encodeURIComponent(name)}/update`, { body }).then(() => undefined));
  },
});
