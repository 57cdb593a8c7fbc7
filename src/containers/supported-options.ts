/**
 * Create options berth does not implement yet get a 400 that names them, never silent ignoring.
 * Each later capability (networking, volumes, resources, TTY) removes its names from here.
 */
import { InvalidArgumentError } from '../lib/errors.js';
import type { ContainerConfigInput, HostConfigInput } from './container-record.js';

/** Whether an API field was given a value (Docker's zero values mean "not set"). */
export const isSet = (value: unknown): boolean => {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
};

/**
 * HostConfig fields berth does not apply, with the docker flag that sends each: a value given is
 * refused, so no setting is silently dropped (issue 18: a field sent is a field kept).
 */
const UNSUPPORTED_HOST: Record<string, string> = {
  Links: '--link',
  VolumeDriver: '--volume-driver',
  Annotations: '--annotation',
  CgroupParent: '--cgroup-parent',
  BlkioWeight: '--blkio-weight',
  BlkioWeightDevice: '--blkio-weight-device',
  BlkioDeviceReadBps: '--device-read-bps',
  BlkioDeviceWriteBps: '--device-write-bps',
  BlkioDeviceReadIOps: '--device-read-iops',
  BlkioDeviceWriteIOps: '--device-write-iops',
  CpuRealtimePeriod: '--cpu-rt-period',
  CpuRealtimeRuntime: '--cpu-rt-runtime',
  CpusetMems: '--cpuset-mems',
  DeviceCgroupRules: '--device-cgroup-rule',
  DeviceRequests: '--gpus',
  KernelMemoryTCP: 'KernelMemoryTCP',
  MemoryReservation: '--memory-reservation',
  OomKillDisable: '--oom-kill-disable',
  OomScoreAdj: '--oom-score-adj',
  StorageOpt: '--storage-opt',
  CpuCount: '--cpu-count',
  CpuPercent: '--cpu-percent',
  IOMaximumIOps: '--io-maxiops',
  IOMaximumBandwidth: '--io-maxbandwidth',
  MaskedPaths: 'MaskedPaths',
  ReadonlyPaths: 'ReadonlyPaths',
};

/** Fields whose "not set" value is not Go's zero value. */
function isSetHostField(key: string, value: unknown): boolean {
  if (key === 'MemorySwappiness') return value !== undefined && value !== null && value !== -1;
  if (key === 'UsernsMode') return isSet(value) && value !== 'host';
  if (key === 'Isolation') return isSet(value) && value !== 'default';
  if (key === 'VolumeDriver') return isSet(value) && value !== 'local';
  return isSet(value);
}

export function checkSupported(config: ContainerConfigInput, hostConfig: HostConfigInput): void {
  const unsupported: string[] = [];
  for (const [key, flag] of Object.entries({ ...UNSUPPORTED_HOST, MemorySwappiness: '--memory-swappiness', UsernsMode: '--userns', Isolation: '--isolation' })) {
    if (isSetHostField(key, hostConfig[key])) unsupported.push(flag === key ? `HostConfig.${key}` : `HostConfig.${key} (${flag})`);
  }
  if (isSet((config as Record<string, unknown>)['NetworkDisabled'])) unsupported.push('Config.NetworkDisabled');
  for (const option of (hostConfig['SecurityOpt'] as string[] | undefined) ?? []) {
    if (!/^(no-new-privileges([:=](true|false))?|seccomp[=:].+|label[=:]disable|apparmor[=:]unconfined)$/.test(option)) unsupported.push(`SecurityOpt ${option}`);
  }
  if (typeof hostConfig['NanoCpus'] === 'number' && (hostConfig['NanoCpus'] as number) > 0 && typeof hostConfig['CpuQuota'] === 'number' && (hostConfig['CpuQuota'] as number) > 0) {
    throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  }
  const mode = hostConfig.NetworkMode;
  if (mode && (mode === 'none' || mode === 'host' || mode.startsWith('container:')) && isSet(hostConfig['PortBindings'])) {
    throw new InvalidArgumentError(`conflicting options: port publishing and the ${mode.startsWith('container:') ? 'container' : mode} network mode`);
  }
  const endpoints = (config as { NetworkingConfig?: { EndpointsConfig?: Record<string, { MacAddress?: string; IPAMConfig?: { IPv6Address?: string } | null }> | null } }).NetworkingConfig?.EndpointsConfig ?? {};
  for (const [name, settings] of Object.entries(endpoints)) {
    if (settings?.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(settings.MacAddress)) throw new InvalidArgumentError(`invalid MAC address ${settings.MacAddress} for network ${name}`);
    if (settings?.IPAMConfig?.IPv6Address) unsupported.push(`IPv6Address on network ${name} (--ip6)`);
  }
  for (const host of (hostConfig['ExtraHosts'] as string[] | undefined) ?? []) {
    if (!/^[^:\s]+:.+$/.test(host)) throw new InvalidArgumentError(`invalid argument "${host}" for "--add-host" flag: bad format for add-host: "${host}"`);
  }
  if (unsupported.length > 0) {
    throw new InvalidArgumentError(`not supported by berth yet: ${unsupported.join(', ')}`);
  }
}
