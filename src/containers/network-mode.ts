/** HostConfig.NetworkMode in berth's terms, and -P's ports. */
import { InvalidArgumentError } from '../lib/errors.js';
import type { PortRequest } from '../network/port-bindings.js';
import type { HostConfigInput } from './container-record.js';

export type NetworkMode = { kind: 'network'; name: string } | { kind: 'none' } | { kind: 'host' } | { kind: 'container'; container: string };

export function networkModeOf(hostConfig: HostConfigInput): NetworkMode {
  const mode = hostConfig.NetworkMode || 'default';
  if (mode === 'default' || mode === 'bridge') return { kind: 'network', name: 'bridge' };
  if (mode === 'none' || mode === 'host') return { kind: mode };
  if (mode.startsWith('container:')) {
    const container = mode.slice('container:'.length);
    if (!container) throw new InvalidArgumentError('invalid network mode: container: needs a container name or ID');
    return { kind: 'container', container };
  }
  return { kind: 'network', name: mode };
}

/** -P: each exposed port not already published gets an ephemeral host port on every address. */
export function exposedPortRequests(exposed: Record<string, unknown>, already: readonly PortRequest[]): PortRequest[] {
  const requests: PortRequest[] = [];
  for (const key of Object.keys(exposed)) {
    const [portText = '', protocol = 'tcp'] = key.split('/');
    const containerPort = Number(portText);
    if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535 || (protocol !== 'tcp' && protocol !== 'udp')) continue;
    if (already.some((r) => r.containerPort === containerPort && r.protocol === protocol)) continue;
    requests.push({ protocol, containerPort, hostIp: '', hostPortRange: [0, 0] });
  }
  return requests;
}
