/** NetworkSettings and Ports, in the shapes `docker inspect`, `docker port` and `docker ps` read. */
import type { EndpointRecord } from '../network/network-state.js';
import type { ContainerRecord } from './container-record.js';

export interface NetworkView {
  /** The first is the container's primary network (NetworkSettings' top-level fields). */
  networks: { name: string; id: string; endpoint?: EndpointRecord }[];
  /** The path of the container's network namespace while it runs on a network (named per daemon). */
  sandboxKey?: string;
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

/** Exposed ports (image and container) map to null until published; published ones list bindings. */
function portMap(record: ContainerRecord, imageExposed: Record<string, unknown>, endpoint: EndpointRecord | undefined): PortMap {
  const ports: PortMap = {};
  if (!endpoint) return ports;
  for (const key of Object.keys({ ...imageExposed, ...(record.config.ExposedPorts ?? {}) })) ports[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const p of endpoint.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    (ports[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return ports;
}

function endpointSettings(network: { id: string; endpoint?: EndpointRecord }): Record<string, unknown> {
  const e = network.endpoint;
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: e && e.aliases.length > 0 ? e.aliases : null,
    MacAddress: e?.macAddress ?? '',
    DriverOpts: null,
    NetworkID: network.id,
    EndpointID: e?.endpointId ?? '',
    Gateway: e?.gateway ?? '',
    IPAddress: e?.ipAddress ?? '',
    IPPrefixLen: e?.prefixLength ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: e ? e.dnsNames : null,
  };
}

export function networkSettingsOf(record: ContainerRecord, view: NetworkView, imageExposed: Record<string, unknown>): Record<string, unknown> {
  const primary = view.networks[0];
  const e = primary?.endpoint;
  const running = record.state.status === 'running' || record.state.status === 'paused';
  return {
    Bridge: '',
    SandboxID: running && e ? e.endpointId : '',
    // On a network the namespace is berth's named one; otherwise (none, container:, host) the process's.
    SandboxKey: running && e && view.sandboxKey ? view.sandboxKey : running && record.state.pid ? `/proc/${record.state.pid}/ns/net` : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portMap(record, imageExposed, e),
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: e?.endpointId ?? '',
    Gateway: e?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: e?.ipAddress ?? '',
    IPPrefixLen: e?.prefixLength ?? 0,
    IPv6Gateway: '',
    MacAddress: e?.macAddress ?? '',
    Networks: Object.fromEntries(view.networks.map((n) => [n.name, endpointSettings(n)])),
  };
}

/** GET /containers/json's Ports: published ports with their host side, exposed ones without. */
export function summaryPorts(record: ContainerRecord, imageExposed: Record<string, unknown>, endpoint: EndpointRecord | undefined): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  for (const p of endpoint?.ports ?? []) list.push({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol });
  for (const key of Object.keys({ ...imageExposed, ...(record.config.ExposedPorts ?? {}) })) {
    const [port = '', type = 'tcp'] = key.split('/');
    if (list.some((l) => l['PrivatePort'] === Number(port) && l['Type'] === type)) continue;
    list.push({ PrivatePort: Number(port), Type: type });
  }
  return list;
}
