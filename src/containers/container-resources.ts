/**
 * A running container's resources: its stats (cgroup v1 or v2, with a kept previous sample for
 * precpu_stats), limits changed in place with `runc update`, and its processes (`top`).
 */
import type { CommandRunner } from '../lib/command-runner.js';
import { ConflictError, InternalError, InvalidArgumentError } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import { ZERO_TIME, type ContainerRecord, type HostConfigInput } from './container-record.js';
import { cpuStats, networkStats, type ContainerStatsReader, type StatsSample } from './container-stats.js';
import { resourcesOf } from './host-config-spec.js';
import { checkRestartPolicy, type RestartPolicy } from './restart-policy.js';
import { isSet } from './supported-options.js';
import { parsePs } from './ps-output.js';

export interface ContainerResourcesDeps {
  cgroupParent: string;
  stats: ContainerStatsReader;
  runner: CommandRunner;
  runtimePath(record: ContainerRecord): string;
  save(record: ContainerRecord): Promise<void>;
  publish(event: NewEvent): void;
}

export class ContainerResources {
  /** The last stats sample of each container, for the next one's precpu_stats. */
  private readonly statsSamples = new Map<string, StatsSample>();

  constructor(private readonly deps: ContainerResourcesDeps) {}

  forget(id: string): void {
    this.statsSamples.delete(id);
  }

  /**
   * One stats document (GET /containers/{id}/stats). precpu_stats comes from the previous sample
   * of this container; without one (or one older than 10 s), a second sample is taken 100 ms on.
   */
  async stats(record: ContainerRecord): Promise<Record<string, unknown>> {
    const base = { name: `/${record.name}`, id: record.id, num_procs: 0, storage_stats: {}, blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null } };
    if (record.state.status !== 'running' && record.state.status !== 'paused') {
      return { ...base, read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, cpu_stats: cpuStats(undefined), precpu_stats: cpuStats(undefined), memory_stats: {} };
    }
    const cgroupPath = `${this.deps.cgroupParent.replace(/\/$/, '')}/${record.id}`;
    let previous = this.statsSamples.get(record.id);
    if (!previous || Date.now() - Date.parse(previous.read) > 10_000) {
      previous = await this.deps.stats.sample(cgroupPath);
      await new Promise((r) => setTimeout(r, 100));
    }
    const current = await this.deps.stats.sample(cgroupPath);
    this.statsSamples.set(record.id, current);
    return {
      ...base,
      read: current.read,
      preread: previous.read,
      pids_stats: await this.deps.stats.pids(cgroupPath),
      cpu_stats: cpuStats(current),
      precpu_stats: cpuStats(previous),
      memory_stats: await this.deps.stats.memory(cgroupPath),
      networks: await networkStats(record.state.pid),
    };
  }

  /**
   * POST /containers/{id}/update: new limits (memory, swap, CPUs, shares, cpuset, pids) and restart
   * policy, kept in the record and applied to a running container with `runc update`.
   */
  async update(record: ContainerRecord, changes: Record<string, unknown>): Promise<string[]> {
    const allowed = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'RestartPolicy', 'BlkioWeight'];
    const unsupported = Object.keys(changes).filter((k) => !allowed.includes(k) && isSet(changes[k]));
    if (unsupported.length > 0) throw new InvalidArgumentError(`not supported by berth yet: updating ${unsupported.join(', ')}`);
    const updated: HostConfigInput = { ...record.hostConfig };
    for (const key of allowed) if (changes[key] !== undefined && changes[key] !== null && !(typeof changes[key] === 'number' && changes[key] === 0 && key !== 'PidsLimit')) updated[key] = changes[key];
    if (changes['RestartPolicy'] !== undefined) checkRestartPolicy(changes['RestartPolicy'] as RestartPolicy, record.hostConfig.AutoRemove === true);
    const memory = typeof updated['Memory'] === 'number' ? (updated['Memory'] as number) : 0;
    const swap = typeof updated['MemorySwap'] === 'number' ? (updated['MemorySwap'] as number) : 0;
    if (memory > 0 && swap > 0 && swap < memory) throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
    if (record.state.status === 'running' || record.state.status === 'paused') {
      const r = resourcesOf(updated);
      const resources = {
        ...(r.memoryBytes ? { memory: { limit: r.memoryBytes, ...(r.memorySwapBytes ? { swap: r.memorySwapBytes } : {}) } } : {}),
        ...(r.cpuQuota || r.cpuShares || r.cpusetCpus ? { cpu: { ...(r.cpuQuota ? { quota: r.cpuQuota, period: r.cpuPeriod ?? 100_000 } : {}), ...(r.cpuShares ? { shares: r.cpuShares } : {}), ...(r.cpusetCpus ? { cpus: r.cpusetCpus } : {}) } } : {}),
        ...(r.pidsLimit ? { pids: { limit: r.pidsLimit } } : {}),
      };
      const result = await this.deps.runner.run(this.deps.runtimePath(record), ['update', '--resources', '-', record.id], { input: JSON.stringify(resources) });
      if (result.exitCode !== 0) throw new InternalError(`Cannot update container ${record.id}: ${result.stderr.trim()}`);
    }
    record.hostConfig = updated;
    await this.deps.save(record);
    this.deps.publish({ Type: 'container', Action: 'update', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
    return [];
  }

  /** GET /containers/{id}/top: the host's `ps` (with the caller's arguments), only the container's processes. */
  async top(record: ContainerRecord, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    if (record.state.status !== 'running' && record.state.status !== 'paused') throw new ConflictError(`Container ${record.id} is not running`);
    const listed = await this.deps.runner.run(this.deps.runtimePath(record), ['ps', '--format', 'json', record.id]);
    if (listed.exitCode !== 0) throw new InternalError(`listing the container's processes: ${listed.stderr.trim()}`);
    const pids = new Set((JSON.parse(listed.stdout || '[]') as number[]).map(String));
    const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
    const ps = await this.deps.runner.run('ps', args);
    if (ps.exitCode !== 0) throw new InternalError(`ps ${args.join(' ')} failed: ${ps.stderr.trim()}`);
    return parsePs(ps.stdout, pids);
  }
}
