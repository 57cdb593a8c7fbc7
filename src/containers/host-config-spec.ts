/** Docker's HostConfig limits and mounts in the OCI runtime spec's terms. */
import { InvalidArgumentError } from '../lib/errors.js';
import type { ResourceLimits } from '../oci/runtime-spec.js';
import type { HostConfigInput } from './container-record.js';

/** --ulimit name=soft[:hard] as OCI rlimits (RLIMIT_NOFILE, ...). */
export function rlimitsOf(hostConfig: HostConfigInput): { type: string; hard: number; soft: number }[] {
  const ulimits = (hostConfig['Ulimits'] as { Name: string; Soft: number; Hard: number }[] | null | undefined) ?? [];
  return ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard }));
}

/** --tmpfs /path:options as tmpfs mounts (noexec, nosuid, nodev as Docker adds them). */
export function tmpfsMounts(hostConfig: HostConfigInput): { destination: string; type: string; source: string; options: string[] }[] {
  const tmpfs = (hostConfig['Tmpfs'] as Record<string, string> | null | undefined) ?? {};
  return Object.entries(tmpfs).map(([destination, options]) => {
    if (!destination.startsWith('/')) throw new InvalidArgumentError(`invalid mount path: '${destination}' mount path must be absolute`);
    const given = options ? options.split(',').filter(Boolean) : [];
    return { destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...given] };
  });
}

export function resourcesOf(hostConfig: HostConfigInput): ResourceLimits {
  const num = (key: string) => (typeof hostConfig[key] === 'number' ? (hostConfig[key] as number) : 0);
  const memory = num('Memory');
  const swap = num('MemorySwap');
  const nanoCpus = num('NanoCpus');
  const period = num('CpuPeriod') || 100_000;
  return {
    ...(memory > 0 ? { memoryBytes: memory, memorySwapBytes: swap === -1 ? -1 : swap > 0 ? swap : memory * 2 } : {}),
    ...(nanoCpus > 0 ? { cpuQuota: Math.round((nanoCpus * period) / 1e9), cpuPeriod: period } : num('CpuQuota') > 0 ? { cpuQuota: num('CpuQuota'), cpuPeriod: period } : {}),
    ...(num('CpuShares') > 0 ? { cpuShares: num('CpuShares') } : {}),
    ...(typeof hostConfig['CpusetCpus'] === 'string' && hostConfig['CpusetCpus'] ? { cpusetCpus: hostConfig['CpusetCpus'] as string } : {}),
    ...(num('PidsLimit') > 0 ? { pidsLimit: num('PidsLimit') } : {}),
  };
}

/** HostConfig.ConsoleSize is [height, width]; [0, 0] (the CLI's default off a terminal) means unset. */
export function consoleSizeOf(hostConfig: HostConfigInput): { height: number; width: number } | undefined {
  const size = hostConfig['ConsoleSize'] as unknown;
  if (!Array.isArray(size) || size.length !== 2) return undefined;
  const [height, width] = size as unknown[];
  if (typeof height !== 'number' || typeof width !== 'number' || height <= 0 || width <= 0) return undefined;
  return { height, width };
}
