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

const UNSUPPORTED_HOST = ['Links'];

export function checkSupported(config: ContainerConfigInput, hostConfig: HostConfigInput): void {
  const unsupported: string[] = [];
  for (const key of UNSUPPORTED_HOST) {
    const value = hostConfig[key];
    if (isSet(value)) unsupported.push(`HostConfig.${key}`);
  }
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
