/** Docker's PortBindings ({"80/tcp": [{HostIp, HostPort}]}) checked and turned into port requests. */
import { InvalidArgumentError } from '../lib/errors.js';
import { parseIPv4 } from './ipv4.js';

export interface PortRequest {
  protocol: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  /** Inclusive range; [0, 0] for an ephemeral port. */
  hostPortRange: [number, number];
}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new InvalidArgumentError(`invalid ${what} port: ${text}: must be between 1 and 65535`);
  return n;
}

export function parsePortBindings(bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined): PortRequest[] {
  const requests: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const [portText = '', protocolText = 'tcp'] = key.split('/');
    if (protocolText !== 'tcp' && protocolText !== 'udp') throw new InvalidArgumentError(`invalid proto: ${protocolText}`);
    const containerPort = port(portText, 'container');
    for (const binding of list ?? [{}]) {
      const hostIp = binding.HostIp ?? '';
      if (hostIp !== '' && hostIp.includes(':')) throw new InvalidArgumentError(`not supported by berth yet: IPv6 host address ${hostIp}`);
      if (hostIp !== '') parseIPv4(hostIp);
      const hostPort = binding.HostPort ?? '';
      let range: [number, number] = [0, 0];
      // Empty or 0 (`-p 80`, `-p :80`, `-p 0:80`, testcontainers' HostPort "0"): an ephemeral port, as moby.
      if (hostPort !== '' && hostPort !== '0') {
        const [low = '', high] = hostPort.split('-');
        range = [port(low, 'host'), high === undefined ? port(low, 'host') : port(high, 'host')];
        if (range[1] < range[0]) throw new InvalidArgumentError(`invalid port range: ${hostPort}`);
      }
      requests.push({ protocol: protocolText, containerPort, hostIp, hostPortRange: range });
    }
  }
  return requests;
}
