/**
 * Container networking: the default `bridge` network on berth's own bridge device, an endpoint
 * (address, MAC, published ports) per running container, and the firewall kept equal to them.
 * Every change is made under one lock, persisted, and then the firewall is re-rendered.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { Mutex } from '../lib/keyed-mutex.js';
import { InternalError, InvalidArgumentError } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import type { Firewall, FirewallState } from './firewall.js';
import type { Links } from './links.js';
import { contains, formatIPv4, formatSubnet, macForAddress, overlaps, parseIPv4, parseSubnet, subnetSize, type Subnet } from './ipv4.js';
import { loadNetworkState, saveNetworkState, type EndpointRecord, type NetworkRecord, type NetworkStateData, type PublishedPort } from './network-state.js';
import type { PortRequest } from './port-bindings.js';

export interface NetworkServiceDeps {
  statePath: string;
  bridgeName: string;
  bip?: string;
  links: Links;
  firewall: Firewall;
  /** Subnets the host routes now (not through berth's bridges): berth will not take them. */
  hostRoutes: () => Promise<{ subnet: Subnet; device: string }[]>;
  /** Whether hostIp:port can be bound on the host now. */
  portFree?: (protocol: 'tcp' | 'udp', hostIp: string, port: number) => Promise<boolean>;
  ephemeralRange: [number, number];
  nowIso: () => string;
  publish: (event: NewEvent) => void;
}

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
function defaultCandidates(): string[] {
  const list: string[] = [];
  for (let b = 17; b <= 31; b++) list.push(`172.${b}.0.0/16`);
  for (let c = 0; c < 256; c += 16) list.push(`192.168.${c}.0/20`);
  return list;
}

export class NetworkService {
  private state: NetworkStateData = { networks: [], endpoints: [] };
  private readonly lock = new Mutex();

  constructor(private readonly deps: NetworkServiceDeps) {}

  /** Loads the state and makes sure the default network exists (before containers are restored). */
  async load(): Promise<void> {
    this.state = await loadNetworkState(this.deps.statePath);
    await this.ensureDefaultNetwork();
  }

  /**
   * After containers are restored: forgets endpoints of containers that no longer run, and
   * re-renders the firewall from what is left (a crash leaves nothing stale or doubled).
   */
  async reconcile(running: ReadonlySet<string>): Promise<void> {
    await this.lock.run(async () => {
      const before = this.state.endpoints.length;
      this.state.endpoints = this.state.endpoints.filter((e) => running.has(e.containerId));
      if (this.state.endpoints.length !== before) await this.save();
      if (this.state.endpoints.length > 0) {
        await this.deps.links.ensureBridge(this.defaultNetwork().bridge, this.gatewayCidr(this.defaultNetwork()));
        await this.applyFirewall();
      } else {
        // Nothing runs: a table left by a crash must not keep forwarding ports.
        await this.deps.firewall.remove();
      }
    });
  }

  /** Brings up lo in a container without a network (--network none), as Docker has it. */
  loopbackOnly(pid: number): Promise<void> {
    return this.deps.links.loopbackOnly(pid);
  }

  defaultNetwork(): NetworkRecord {
    return this.state.networks.find((n) => n.name === 'bridge')!;
  }

  networks(): NetworkRecord[] {
    return [...this.state.networks];
  }

  endpointOf(containerId: string): EndpointRecord | undefined {
    return this.state.endpoints.find((e) => e.containerId === containerId);
  }

  private gatewayCidr(network: NetworkRecord): string {
    return `${network.gateway}/${parseSubnet(network.subnet).prefix}`;
  }

  private async ensureDefaultNetwork(): Promise<void> {
    const existing = this.state.networks.find((n) => n.name === 'bridge');
    const wanted = this.deps.bip;
    if (existing && existing.bridge === this.deps.bridgeName && (!wanted || (formatSubnet(parseSubnet(wanted)) === existing.subnet && wanted.split('/')[0] === existing.gateway))) return;
    if (existing && this.state.endpoints.some((e) => e.networkId === existing.id)) {
      throw new InvalidArgumentError('the default bridge network cannot change (--bridge, --bip) while containers use it');
    }
    const routes = (await this.deps.hostRoutes()).filter((r) => !this.state.networks.some((n) => n.bridge === r.device) && r.device !== this.deps.bridgeName);
    let subnet: Subnet;
    let gateway: number;
    if (wanted) {
      subnet = parseSubnet(wanted);
      gateway = parseIPv4(wanted.split('/')[0]!);
      if (gateway === subnet.base) gateway = subnet.base + 1;
      const clash = routes.find((r) => overlaps(r.subnet, subnet));
      if (clash) throw new InvalidArgumentError(`--bip ${wanted} overlaps ${formatSubnet(clash.subnet)}, which the host routes through ${clash.device}`);
    } else {
      const free = defaultCandidates().map(parseSubnet).find((c) => !routes.some((r) => overlaps(r.subnet, c)));
      if (!free) throw new InternalError('no free subnet for the default bridge network: every default pool is routed on this host (set --bip)');
      subnet = free;
      gateway = free.base + 1;
    }
    const record: NetworkRecord = {
      id: existing?.id ?? randomBytes(32).toString('hex'),
      name: 'bridge',
      driver: 'bridge',
      bridge: this.deps.bridgeName,
      subnet: formatSubnet(subnet),
      gateway: formatIPv4(gateway),
      internal: false,
      labels: {},
      created: existing?.created ?? this.deps.nowIso(),
    };
    if (existing) await this.deps.links.removeLink(existing.bridge);
    this.state.networks = [...this.state.networks.filter((n) => n.name !== 'bridge'), record];
    await this.save();
  }

  /** Reserves an address and the published ports for a container about to start. */
  async connect(containerId: string, requests: PortRequest[]): Promise<EndpointRecord> {
    return this.lock.run(async () => {
      const existing = this.endpointOf(containerId);
      if (existing) return existing;
      const network = this.defaultNetwork();
      const subnet = parseSubnet(network.subnet);
      const gateway = parseIPv4(network.gateway);
      const taken = new Set(this.state.endpoints.filter((e) => e.networkId === network.id).map((e) => parseIPv4(e.ipAddress)));
      let address = 0;
      for (let candidate = subnet.base + 2; candidate < subnet.base + subnetSize(subnet) - 1; candidate++) {
        if (candidate !== gateway && !taken.has(candidate) && contains(subnet, candidate)) {
          address = candidate;
          break;
        }
      }
      if (!address) throw new InternalError(`no available IPv4 addresses on network bridge (${network.subnet})`);
      const ports: PublishedPort[] = [];
      for (const request of requests) ports.push(await this.allocatePort(request, ports));
      const endpoint: EndpointRecord = {
        containerId,
        networkId: network.id,
        endpointId: randomBytes(32).toString('hex'),
        ipAddress: formatIPv4(address),
        prefixLength: subnet.prefix,
        gateway: network.gateway,
        macAddress: macForAddress(address),
        ports,
        hostInterface: `veth${containerId.slice(0, 11)}`,
      };
      this.state.endpoints.push(endpoint);
      await this.save();
      return endpoint;
    });
  }

  private async allocatePort(request: PortRequest, alsoTaken: PublishedPort[]): Promise<PublishedPort> {
    const hostIp = request.hostIp === '0.0.0.0' ? '' : request.hostIp;
    const inUse = (port: number) =>
      [...this.state.endpoints.flatMap((e) => e.ports), ...alsoTaken].some((p) => p.protocol === request.protocol && p.hostPort === port && (p.hostIp === '' || hostIp === '' || p.hostIp === hostIp));
    const free = async (port: number) => !inUse(port) && (await (this.deps.portFree?.(request.protocol, hostIp, port) ?? true));
    const shown = `${hostIp || '0.0.0.0'}`;
    const [low, high] = request.hostPortRange;
    if (low === 0) {
      const [from, to] = this.deps.ephemeralRange;
      const span = to - from + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const port = from + ((start + i) % span);
        if (await free(port)) return { protocol: request.protocol, containerPort: request.containerPort, hostIp, hostPort: port };
      }
      throw new InternalError(`Bind for ${shown} failed: no available ephemeral ports`);
    }
    for (let port = low; port <= high; port++) {
      if (await free(port)) return { protocol: request.protocol, containerPort: request.containerPort, hostIp, hostPort: port };
    }
    const what = low === high ? `${shown}:${low}` : `${shown}:${low}-${high}`;
    throw new InternalError(`driver failed programming external connectivity: Bind for ${what} failed: port is already allocated`);
  }

  /** Wires the reserved endpoint into the container's namespace and opens its ports. */
  async plumb(containerId: string, pid: number): Promise<void> {
    const endpoint = this.endpointOf(containerId);
    if (!endpoint) throw new InternalError(`container ${containerId} has no network endpoint`);
    const network = this.state.networks.find((n) => n.id === endpoint.networkId)!;
    await this.lock.run(() => this.deps.links.ensureBridge(network.bridge, this.gatewayCidr(network)));
    await this.deps.links.plumb({ pid, hostName: endpoint.hostInterface, bridge: network.bridge, address: endpoint.ipAddress, prefixLength: endpoint.prefixLength, gateway: endpoint.gateway, mac: endpoint.macAddress });
    if (endpoint.ports.length > 0) await this.lock.run(() => this.applyFirewall());
  }

  /** Releases a container's address and ports (it stopped, or never started). */
  async disconnect(containerId: string): Promise<void> {
    await this.lock.run(async () => {
      const endpoint = this.endpointOf(containerId);
      if (!endpoint) return;
      this.state.endpoints = this.state.endpoints.filter((e) => e !== endpoint);
      await this.save();
      if (endpoint.ports.length > 0) await this.applyFirewall();
      await this.deps.links.removeLink(endpoint.hostInterface).catch(() => undefined);
    });
  }

  /** At berthd's stop: with no container left running, the bridge and the table go too. */
  async shutdown(): Promise<void> {
    await this.lock.run(async () => {
      if (this.state.endpoints.length > 0) return;
      await this.deps.firewall.remove();
      for (const network of this.state.networks) await this.deps.links.removeLink(network.bridge);
    });
  }

  private firewallState(): FirewallState {
    return {
      networks: this.state.networks.map((n) => ({ bridge: n.bridge, subnet: n.subnet, internal: n.internal })),
      ports: this.state.endpoints.flatMap((e) => e.ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: e.ipAddress, containerPort: p.containerPort }))),
    };
  }

  private async applyFirewall(): Promise<void> {
    await this.deps.firewall.apply(this.firewallState());
  }

  private async save(): Promise<void> {
    await saveNetworkState(this.deps.statePath, this.state);
  }
}

/** The host's IPv4 routes (`ip -4 route show`), as subnets with their devices. */
export function parseRoutes(text: string): { subnet: Subnet; device: string }[] {
  const routes: { subnet: Subnet; device: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s.*\bdev\s+(\S+)/.exec(line.trim());
    if (!m) continue;
    const cidr = m[1]!.includes('/') ? m[1]! : `${m[1]}/32`;
    const prefix = Number(cidr.split('/')[1]);
    if (prefix < 1 || prefix > 30) continue;
    routes.push({ subnet: parseSubnet(cidr), device: m[2]! });
  }
  return routes;
}

/** Whether a TCP or UDP port can be bound now (a host process may hold it). */
export function probePort(protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, hostIp || '0.0.0.0', () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: hostIp || '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
