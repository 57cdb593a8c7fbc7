/**
 * `docker stats` figures read straight from the container's cgroup (v1 controllers, or v2) and its
 * network namespace, in the Engine API's shape. The docker CLI computes CPU % from the difference
 * between cpu_stats and precpu_stats, so berth keeps each container's previous sample: a one-shot
 * request (stream=false) answers at once when one exists, else after a 100 ms second sample.
 */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface StatsSample {
  read: string;
  cpuTotalNs: number;
  perCpuNs: number[];
  systemNs: number;
  cpuUserNs: number;
  cpuKernelNs: number;
}

const read = (path: string) => readFile(path, 'utf8').then((t) => t.trim(), () => '');
const num = async (path: string) => Number(await read(path)) || 0;

function statFile(text: string): Record<string, number> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(/\s+/); return [k!, Number(v)]; }));
}

/** Host CPU time in nanoseconds, as Docker computes system_cpu_usage from /proc/stat. */
async function systemCpuNs(): Promise<number> {
  const line = (await read('/proc/stat')).split('\n')[0] ?? '';
  const jiffies = line.split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
  return jiffies * 1e7; // USER_HZ is 100
}

export class ContainerStatsReader {
  constructor(private readonly cgroupRoot: string, private readonly unified: boolean) {}

  private v1(controller: string, cgroupPath: string, file: string): string {
    return `${this.cgroupRoot}/${controller}${cgroupPath}/${file}`;
  }

  private v2(cgroupPath: string, file: string): string {
    return `${this.cgroupRoot}${cgroupPath}/${file}`;
  }

  async sample(cgroupPath: string): Promise<StatsSample> {
    const systemNs = await systemCpuNs();
    if (this.unified) {
      const cpu = statFile(await read(this.v2(cgroupPath, 'cpu.stat')));
      return { read: new Date().toISOString(), cpuTotalNs: (cpu['usage_usec'] ?? 0) * 1000, perCpuNs: [], systemNs, cpuUserNs: (cpu['user_usec'] ?? 0) * 1000, cpuKernelNs: (cpu['system_usec'] ?? 0) * 1000 };
    }
    const perCpu = (await read(this.v1('cpuacct', cgroupPath, 'cpuacct.usage_percpu'))).split(/\s+/).filter(Boolean).map(Number);
    const cpuStat = statFile(await read(this.v1('cpuacct', cgroupPath, 'cpuacct.stat')));
    return {
      read: new Date().toISOString(),
      cpuTotalNs: await num(this.v1('cpuacct', cgroupPath, 'cpuacct.usage')),
      perCpuNs: perCpu,
      systemNs,
      cpuUserNs: (cpuStat['user'] ?? 0) * 1e7,
      cpuKernelNs: (cpuStat['system'] ?? 0) * 1e7,
    };
  }

  async memory(cgroupPath: string): Promise<Record<string, unknown>> {
    if (this.unified) {
      const stats = statFile(await read(this.v2(cgroupPath, 'memory.stat')));
      const max = await read(this.v2(cgroupPath, 'memory.max'));
      return { usage: await num(this.v2(cgroupPath, 'memory.current')), stats, limit: max === 'max' || !max ? hostMemory() : Number(max) };
    }
    const stats = statFile(await read(this.v1('memory', cgroupPath, 'memory.stat')));
    const limit = await num(this.v1('memory', cgroupPath, 'memory.limit_in_bytes'));
    return {
      usage: await num(this.v1('memory', cgroupPath, 'memory.usage_in_bytes')),
      max_usage: await num(this.v1('memory', cgroupPath, 'memory.max_usage_in_bytes')),
      failcnt: await num(this.v1('memory', cgroupPath, 'memory.failcnt')),
      stats,
      // An unlimited v1 cgroup reports a huge number: Docker shows the host's memory then.
      limit: limit > hostMemory() ? hostMemory() : limit,
    };
  }

  async pids(cgroupPath: string): Promise<Record<string, unknown>> {
    const current = this.unified ? await num(this.v2(cgroupPath, 'pids.current')) : await num(this.v1('pids', cgroupPath, 'pids.current'));
    const maxText = this.unified ? await read(this.v2(cgroupPath, 'pids.max')) : await read(this.v1('pids', cgroupPath, 'pids.max'));
    return { current, ...(maxText && maxText !== 'max' ? { limit: Number(maxText) } : {}) };
  }
}

function hostMemory(): number {
  return totalmem();
}

/** Interface counters of the container's network namespace (/proc/<pid>/net/dev), lo left out. */
export async function networkStats(pid: number): Promise<Record<string, Record<string, number>>> {
  const text = await read(`/proc/${pid}/net/dev`);
  const result: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!name || !rest || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    result[name.trim()] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return result;
}

export function cpuStats(sample: StatsSample | undefined): Record<string, unknown> {
  const online = cpus().length;
  if (!sample) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: { total_usage: sample.cpuTotalNs, ...(sample.perCpuNs.length ? { percpu_usage: sample.perCpuNs } : {}), usage_in_kernelmode: sample.cpuKernelNs, usage_in_usermode: sample.cpuUserNs },
    system_cpu_usage: sample.systemNs,
    online_cpus: online,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}
