/**
 * Container networking: the predefined networks (bridge on berth's own device, host, none),
 * user-defined bridge networks with IPAM and an embedded DNS server each, an endpoint (address,
 * MAC, published ports) per container and network, and the firewall kept equal to all of them.
 * Every change is made under one lock, persisted, and then the firewall is re-rendered.
 */
import { randomBytes } from 'node:crypto';
import { createServer, isIPv4 } from 'node:net';
import { createSocket } from 'node:dgram';
import { Mutex } from '../lib/keyed-mutex.js';
import { ConflictError, ForbiddenError, InternalError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import type { Firewall, FirewallState } from './firewall.js';
import type { Links } from './links.js';
import { SandboxNames } from './sandbox-name.js';
import { checkBridgeName } from './bridge-name.js';
import { EmbeddedDns } from './dns-server.js';
import { contains, formatIPv4, formatSubnet, macForAddress, overlaps, parseIPv4, parseSubnet, subnetSize, type Subnet } from './ipv4.js';
import { loadNetworkState, saveNetworkState, type EndpointRecord, type NetworkRecord, type NetworkStateData, type PublishedPort } from './network-state.js';
import type { PortRequest } from './port-bindings.js';

export interface NetworkServiceDeps {
  statePath: string;
  bridgeName: string;
  bip?: string;
  links: Links;
  firewall: Firewall;
  /** Subnets the host routes now: berth will not take them. */
  hostRoutes: () => Promise<{ subnet: Subnet; device: string }[]>;
  /** Whether hostIp:port can be bound on the host now. */
  portFree?: (protocol: 'tcp' | 'udp', hostIp: string, port: number) => Promise<boolean>;
  ephemeralRange: [number, number];
  nowIso: () => string;
  publish: (event: NewEvent) => void;
  /** The host's resolvers, for names the embedded DNS does not know. */
  upstreamResolvers: () => string[];
  /** A problem worth the operator's attention that does not stop the daemon. */
  warn?: (message: string, err: Error) => void;
}

export interface CreateNetworkRequest {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export interface EndpointRequest {
  /** Name, alias and short ID the network's DNS answers with. */
  names: string[];
  aliases: string[];
  ipv4Address?: string;
  /** --mac-address; otherwise Docker's 02:42 + the IPv4 bytes. */
  macAddress?: string;
  ports: PortRequest[];
}

const PREDEFINED = new Set(['bridge', 'host', 'none']);

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
  private readonly dns = new Map<string, EmbeddedDns>();
  /**
   * Containers this process has reserved endpoints or made a sandbox for: never a crash's
   * leftover, even before they run (a restart policy can start one while reconcile waits).
   */
  private readonly wiredHere = new Set<string>();
  /** The bridges in the table as last applied. */
  private firewallBridges = new Set<string>();

  private readonly names: SandboxNames;

  constructor(private readonly deps: NetworkServiceDeps) {
    this.names = new SandboxNames(deps.bridgeName);
  }

  /** The path of a container's network namespace while it runs on a network (inspect's SandboxKey). */
  sandboxPathOf(containerId: string): string {
    return this.names.path(containerId);
  }

  /** Loads the state and makes sure the predefined networks exist (before containers are restored). */
  async load(): Promise<void> {
    this.state = await loadNetworkState(this.deps.statePath);
    for (const n of this.state.networks) {
      n.options ??= {};
      n.attachable ??= false;
      // Recorded before berth remembered it: the default bridge and br-<id> were made by berth;
      // a name the client chose may have been on the host before, so it is never deleted.
      if (n.driver === 'bridge') n.bridgeCreated ??= n.name === 'bridge' || n.bridge === `br-${n.id.slice(0, 12)}`;
    }
    for (const e of this.state.endpoints) {
      e.dnsNames ??= [];
      e.aliases ??= [];
    }
    await this.ensureDefaultNetwork();
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (this.state.networks.some((n) => n.name === name)) continue;
      this.state.networks.push({ id: randomBytes(32).toString('hex'), name, driver, bridge: '', subnet: '', gateway: '', internal: false, labels: {}, options: {}, attachable: false, created: this.deps.nowIso() });
    }
    await this.save();
  }

  /**
   * After containers are restored: removes what a crash left of containers that do not run (their
   * sandboxes, veths on this daemon's bridges, reserved addresses and ports), brings the
   * user-defined bridges and their DNS up, and re-renders the firewall (nothing stale or doubled).
   * Only this daemon's objects: sandboxes by its own name prefix, veths on its own bridges.
   */
  async reconcile(running: ReadonlySet<string>): Promise<void> {
    await this.lock.run(async () => {
      // A leftover that cannot be removed is reported, not a reason to refuse to start.
      const tryTo = (what: string, step: () => Promise<void>) => step().catch((err: Error) => this.deps.warn?.(`could not remove ${what}`, err));
      const leftover = (containerId: string) => !running.has(containerId) && !this.wiredHere.has(containerId);
      const stale = this.state.endpoints.filter((e) => leftover(e.containerId));
      for (const containerId of new Set(stale.map((e) => e.containerId))) {
        const name = this.names.name(containerId);
        await tryTo(`network namespace ${name}`, () => this.deps.links.deleteSandbox(name, stale.filter((e) => e.containerId === containerId).map((e) => e.hostInterface)));
      }
      // A start cut short can leave a sandbox that no endpoint names any more.
      for (const name of await this.deps.links.namespaces()) {
        const owner = this.names.containerOf(name);
        if (owner && leftover(owner)) await tryTo(`network namespace ${name}`, () => this.deps.links.purgeSandbox(name));
      }
      this.state.endpoints = this.state.endpoints.filter((e) => !stale.includes(e));
      if (stale.length > 0) await this.save();
      const inUse = new Set(this.state.endpoints.map((e) => e.hostInterface));
      for (const network of this.state.networks.filter((n) => n.driver === 'bridge')) {
        // berth's veths for this network only (by the name connect() gives them): any other
        // interface on the bridge is someone else's, a borrowed bridge's above all.
        const ours = new RegExp(`^veth[0-9a-f]{7}${network.id.slice(0, 3)}\\d+$`);
        for (const port of await this.deps.links.bridgePorts(network.bridge)) {
          if (ours.test(port) && !inUse.has(port)) await tryTo(`interface ${port}`, () => this.deps.links.removeLink(port));
        }
      }
      // A network whose bridge name is now taken by some other device stays down (its containers
      // fail to start with the reason); the daemon and the other networks still come up.
      for (const network of this.userNetworks()) await this.bringUp(network).catch((err: Error) => this.deps.warn?.(`network ${network.name} is not up`, err));
      if (this.state.endpoints.length > 0) await this.bringUp(this.defaultNetwork());
      if (this.state.endpoints.length > 0 || this.userNetworks().length > 0) await this.applyFirewall();
      // Nothing runs: a table left by a crash must not forward ports. After a clean stop there is none.
      // (A bridge left with route_localnet has no veth left on it, so nothing can arrive there.)
      else if (this.state.firewallInstalled !== false) await this.removeFirewall();
    });
  }

  defaultNetwork(): NetworkRecord {
    return this.state.networks.find((n) => n.name === 'bridge')!;
  }

  networks(): NetworkRecord[] {
    return [...this.state.networks];
  }

  private userNetworks(): NetworkRecord[] {
    return this.state.networks.filter((n) => !PREDEFINED.has(n.name));
  }

  /** A network by full ID, name, or unique ID prefix (Docker's order). */
  resolve(term: string): NetworkRecord {
    if (term === 'default') term = 'bridge'; // the CLI's name for the default network
    const exact = this.state.networks.find((n) => n.id === term) ?? this.state.networks.find((n) => n.name === term);
    if (exact) return exact;
    const prefixed = this.state.networks.filter((n) => n.id.startsWith(term));
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new InvalidArgumentError(`network ${term} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    throw new NotFoundError(`network ${term} not found`);
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return this.state.endpoints.filter((e) => e.containerId === containerId);
  }

  /** The container's first endpoint: its address in /etc/hosts and its default route. */
  endpointOf(containerId: string): EndpointRecord | undefined {
    return this.endpointsOf(containerId)[0];
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return this.state.endpoints.filter((e) => e.networkId === networkId);
  }

  private gatewayCidr(network: NetworkRecord): string {
    return `${network.gateway}/${parseSubnet(network.subnet).prefix}`;
  }

  /**
   * The host's routes but those of berth's own networks: every route through a bridge berth made,
   * and on a borrowed bridge only its network's own subnet (its other addresses are the host's).
   */
  private async routesNotOurs(): Promise<{ subnet: Subnet; device: string }[]> {
    const bridges = this.state.networks.filter((n) => n.driver === 'bridge');
    const made = new Set(bridges.filter((n) => n.bridgeCreated).map((n) => n.bridge));
    const ours = (r: { subnet: Subnet; device: string }) =>
      made.has(r.device) || bridges.some((n) => n.bridge === r.device && formatSubnet(r.subnet) === n.subnet);
    return (await this.deps.hostRoutes()).filter((r) => !ours(r));
  }

  private async ensureDefaultNetwork(): Promise<void> {
    const existing = this.state.networks.find((n) => n.name === 'bridge');
    const wanted = this.deps.bip;
    if (existing && existing.bridge === this.deps.bridgeName && (!wanted || (formatSubnet(parseSubnet(wanted)) === existing.subnet && wanted.split('/')[0] === existing.gateway))) return;
    if (existing && this.state.endpoints.some((e) => e.networkId === existing.id)) {
      throw new InvalidArgumentError('the default bridge network cannot change (--bridge, --bip) while containers use it');
    }
    checkBridgeName(this.deps.bridgeName);
    if (existing) await this.releaseDevice(existing);
    const kind = await this.deps.links.kind(this.deps.bridgeName);
    if (kind === 'other') throw new InvalidArgumentError(`existing interface ${this.deps.bridgeName} is not a bridge`);
    const routes = await this.routesNotOurs();
    const others = this.userNetworks().map((n) => parseSubnet(n.subnet));
    let subnet: Subnet;
    let gateway: number;
    if (wanted) {
      subnet = parseSubnet(wanted);
      gateway = parseIPv4(wanted.split('/')[0]!);
      if (gateway === subnet.base) gateway = subnet.base + 1;
      const clash = routes.find((r) => overlaps(r.subnet, subnet));
      if (clash) throw new InvalidArgumentError(`--bip ${wanted} overlaps ${formatSubnet(clash.subnet)}, which the host routes through ${clash.device}`);
    } else {
      const free = defaultCandidates().map(parseSubnet).find((c) => !routes.some((r) => overlaps(r.subnet, c)) && !others.some((o) => overlaps(o, c)));
      if (!free) throw new InternalError('no free subnet for the default bridge network: every default pool is routed on this host (set --bip)');
      subnet = free;
      gateway = free.base + 1;
    }
    const record: NetworkRecord = {
      id: existing?.id ?? randomBytes(32).toString('hex'),
      name: 'bridge',
      driver: 'bridge',
      bridge: this.deps.bridgeName,
      bridgeCreated: kind === 'absent',
      subnet: formatSubnet(subnet),
      gateway: formatIPv4(gateway),
      internal: false,
      labels: {},
      options: { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': this.deps.bridgeName },
      attachable: false,
      created: existing?.created ?? this.deps.nowIso(),
    };
    this.state.networks = [...this.state.networks.filter((n) => n.name !== 'bridge'), record];
    await this.save();
  }

  /** POST /networks/create: a bridge network with its subnet (given or from the default pools). */
  async createNetwork(request: CreateNetworkRequest): Promise<NetworkRecord> {
    return this.lock.run(async () => {
      const driver = request.driver || 'bridge';
      if (driver !== 'bridge') throw new InvalidArgumentError(`not supported by berth yet: network driver ${driver} (only bridge)`);
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(request.name)) throw new InvalidArgumentError(`invalid network name "${request.name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      if (this.state.networks.some((n) => n.name === request.name)) throw new ConflictError(`network with name ${request.name} already exists`);
      const id = randomBytes(32).toString('hex');
      const bridge = request.options?.['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
      checkBridgeName(bridge);
      const sharing = this.state.networks.find((n) => n.bridge === bridge);
      if (sharing) throw new ConflictError(`conflicts with network ${sharing.id} (${sharing.name}): networks have same bridge name`);
      // As Docker: a bridge that is already on the host is used (and left there at rm); any other device is refused.
      const kind = await this.deps.links.kind(bridge);
      if (kind === 'other') throw new InvalidArgumentError(`existing interface ${bridge} is not a bridge`);
      const routes = await this.routesNotOurs();
      const taken = this.state.networks.filter((n) => n.driver === 'bridge').map((n) => parseSubnet(n.subnet));
      let subnet: Subnet;
      let served = false;
      if (request.subnet) {
        if (request.subnet.includes(':')) throw new InvalidArgumentError('not supported by berth yet: IPv6 subnets');
        subnet = parseSubnet(request.subnet);
        const clash = taken.find((t) => overlaps(t, subnet));
        if (clash) throw new InvalidArgumentError(`invalid pool request: Pool overlaps with other one on this address space`);
        // A borrowed bridge may already serve exactly this subnet (the usual reason to name one).
        const servedByBridge = (r: { subnet: Subnet; device: string }) => kind === 'bridge' && r.device === bridge && formatSubnet(r.subnet) === formatSubnet(subnet);
        const routed = routes.find((r) => overlaps(r.subnet, subnet) && !servedByBridge(r));
        if (routed) throw new InvalidArgumentError(`invalid pool request: Pool overlaps with ${formatSubnet(routed.subnet)}, which the host routes through ${routed.device}`);
        served = routes.some(servedByBridge);
      } else {
        const free = defaultCandidates().map(parseSubnet).find((c) => !routes.some((r) => overlaps(r.subnet, c)) && !taken.some((t) => overlaps(t, c)));
        if (!free) throw new ForbiddenError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        subnet = free;
      }
      const gateway = request.gateway ? parseIPv4(request.gateway) : subnet.base + 1;
      if (!contains(subnet, gateway)) throw new InvalidArgumentError(`gateway ${request.gateway} is not in subnet ${formatSubnet(subnet)}`);
      // There, the host's own address is the gateway; any other would hand the host's address to a container.
      if (served && !(await this.deps.links.hasAddress(bridge, `${formatIPv4(gateway)}/${subnet.prefix}`))) {
        throw new InvalidArgumentError(`bridge ${bridge} already serves ${formatSubnet(subnet)}: its own address there must be the network's gateway (--gateway)`);
      }
      if (request.ipRange) {
        const range = parseSubnet(request.ipRange);
        if (!contains(subnet, range.base) || range.prefix < subnet.prefix) throw new InvalidArgumentError(`IP range ${request.ipRange} is not in subnet ${formatSubnet(subnet)}`);
      }
      const record: NetworkRecord = {
        id,
        name: request.name,
        driver: 'bridge',
        bridge,
        bridgeCreated: kind === 'absent',
        subnet: formatSubnet(subnet),
        gateway: formatIPv4(gateway),
        internal: request.internal === true,
        labels: request.labels ?? {},
        options: request.options ?? {},
        attachable: request.attachable === true,
        ...(request.ipRange ? { ipRange: formatSubnet(parseSubnet(request.ipRange)) } : {}),
        created: this.deps.nowIso(),
      };
      this.state.networks.push(record);
      try {
        await this.save();
        await this.bringUp(record);
        await this.applyFirewall();
      } catch (err) {
        // Nothing half-made: no record, no bridge, no DNS.
        this.state.networks = this.state.networks.filter((n) => n !== record);
        await this.save().catch(() => undefined);
        await this.bringDown(record).catch(() => undefined);
        throw err;
      }
      this.deps.publish({ Type: 'network', Action: 'create', Actor: { ID: id, Attributes: { name: record.name, type: 'bridge' } } });
      return record;
    });
  }

  /** DELETE /networks/{id}: refused for predefined networks and while endpoints exist. */
  async removeNetwork(term: string): Promise<void> {
    await this.lock.run(async () => {
      const network = this.resolve(term);
      if (PREDEFINED.has(network.name)) throw new ForbiddenError(`${network.name} is a pre-defined network and cannot be removed`);
      if (this.endpointsOn(network.id).length > 0) throw new ConflictError(`error while removing network: network ${network.name} id ${network.id} has active endpoints`);
      this.state.networks = this.state.networks.filter((n) => n !== network);
      await this.save();
      await this.bringDown(network);
      await this.applyFirewall();
      this.deps.publish({ Type: 'network', Action: 'destroy', Actor: { ID: network.id, Attributes: { name: network.name, type: 'bridge' } } });
    });
  }

  /** POST /networks/prune: user-defined networks without endpoints; returns their names. */
  async prune(keep: (network: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const network of this.userNetworks()) {
      if (this.endpointsOn(network.id).length > 0 || keep(network)) continue;
      await this.removeNetwork(network.id).then(() => removed.push(network.name), () => undefined);
    }
    return removed;
  }

  /** A bridge network's device, address and DNS server. */
  private async bringUp(network: NetworkRecord): Promise<void> {
    await this.ensureDevice(network);
    if (network.name === 'bridge' || this.dns.has(network.id)) return;
    const dns = new EmbeddedDns(
      {
        addresses: (name) => this.endpointsOn(network.id).filter((e) => e.dnsNames.includes(name)).map((e) => e.ipAddress),
        nameOf: (address) => {
          const endpoint = this.endpointsOn(network.id).find((e) => e.ipAddress === address);
          return endpoint ? `${endpoint.dnsNames[0]}.${network.name}` : undefined;
        },
      },
      {
        accepts: (address) => isIPv4(address) && contains(parseSubnet(network.subnet), parseIPv4(address)),
        upstreams: this.deps.upstreamResolvers,
      },
    );
    await dns.start(network.gateway);
    this.dns.set(network.id, dns);
  }

  /**
   * The network's bridge device, there and addressed. Made (and recorded as berth's, before it
   * exists, so a crash cannot orphan it) when absent; borrowed when someone else's bridge has the
   * name; refused when the name is some other kind of device.
   */
  private async ensureDevice(network: NetworkRecord): Promise<void> {
    const kind = await this.deps.links.kind(network.bridge);
    if (kind === 'other') throw new InvalidArgumentError(`existing interface ${network.bridge} is not a bridge`);
    if (kind === 'absent') {
      if (!network.bridgeCreated) {
        network.bridgeCreated = true;
        delete network.borrowed;
        await this.save();
      }
      await this.deps.links.createBridge(network.bridge, this.gatewayCidr(network));
      return;
    }
    if (network.bridgeCreated) return;
    if (!network.borrowed) {
      network.borrowed = { addedGateway: false, routeLocalnet: await this.deps.links.routeLocalnet(network.bridge) };
      await this.save();
    }
    const addGateway = !(await this.deps.links.hasAddress(network.bridge, this.gatewayCidr(network)));
    if (addGateway && !network.borrowed.addedGateway) {
      // Recorded before the address goes on, so a crash in between still takes it off at rm.
      network.borrowed.addedGateway = true;
      await this.save();
    }
    await this.deps.links.borrowBridge(network.bridge, this.gatewayCidr(network), addGateway);
  }

  /** Deletes the bridge if berth made it; a borrowed one is given back as it was found. */
  private async releaseDevice(network: NetworkRecord): Promise<void> {
    if (network.bridgeCreated) await this.deps.links.removeLink(network.bridge);
    else if (network.borrowed) await this.deps.links.returnBridge(network.bridge, this.gatewayCidr(network), network.borrowed);
  }

  private async bringDown(network: NetworkRecord): Promise<void> {
    await this.dns.get(network.id)?.stop();
    this.dns.delete(network.id);
    await this.releaseDevice(network);
  }

  /** The gateway of a network that has embedded DNS (for the container's resolv.conf). */
  dnsServerFor(networkId: string): string | undefined {
    const network = this.state.networks.find((n) => n.id === networkId);
    return network && network.name !== 'bridge' && this.dns.has(network.id) ? network.gateway : undefined;
  }

  /**
   * Refuses a MAC or IPv4 address that is not one (Docker's messages). They end up in `ip`
   * command lines, where anything else could be read as more commands.
   */
  checkEndpointRequest(request: EndpointRequest): void {
    if (request.macAddress !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(request.macAddress)) throw new InvalidArgumentError(`invalid MAC address ${request.macAddress}`);
    if (request.ipv4Address !== undefined && !isIPv4(request.ipv4Address)) throw new InvalidArgumentError(`invalid IPv4 address: ${request.ipv4Address}`);
  }

  /** Reserves an address (and published ports) on a network for a container about to be wired. */
  async connect(containerId: string, networkTerm: string, request: EndpointRequest): Promise<EndpointRecord> {
    this.checkEndpointRequest(request);
    return this.lock.run(async () => {
      const network = this.resolve(networkTerm);
      if (network.driver !== 'bridge') throw new InvalidArgumentError(`container cannot be connected to network ${network.name}: only bridge networks take endpoints`);
      this.wiredHere.add(containerId);
      const existing = this.state.endpoints.find((e) => e.containerId === containerId && e.networkId === network.id);
      if (existing) return existing;
      if (request.aliases.length > 0 && network.name === 'bridge') throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
      const subnet = parseSubnet(network.subnet);
      const pool = network.ipRange ? parseSubnet(network.ipRange) : subnet;
      const gateway = parseIPv4(network.gateway);
      const taken = new Set(this.endpointsOn(network.id).map((e) => parseIPv4(e.ipAddress)));
      // On a borrowed bridge the host's own addresses are in use too: a container must not take one.
      if (!network.bridgeCreated) for (const cidr of await this.deps.links.addresses(network.bridge)) taken.add(parseIPv4(cidr.split('/')[0]!));
      let address = 0;
      if (request.ipv4Address) {
        if (network.name === 'bridge') throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
        address = parseIPv4(request.ipv4Address);
        if (!contains(subnet, address)) throw new InvalidArgumentError(`no configured subnet contains IP address ${request.ipv4Address}`);
        if (taken.has(address) || address === gateway) throw new ConflictError(`Address already in use: ${request.ipv4Address}`);
      } else {
        for (let candidate = pool.base + (pool.base === subnet.base ? 2 : 0); candidate < pool.base + subnetSize(pool); candidate++) {
          if (candidate !== gateway && !taken.has(candidate) && candidate < subnet.base + subnetSize(subnet) - 1) {
            address = candidate;
            break;
          }
        }
        if (!address) throw new InternalError(`no available IPv4 addresses on network ${network.name} (${network.subnet})`);
      }
      const ports: PublishedPort[] = [];
      for (const portRequest of request.ports) ports.push(await this.allocatePort(portRequest, ports));
      const index = this.endpointsOf(containerId).length;
      const endpoint: EndpointRecord = {
        containerId,
        networkId: network.id,
        endpointId: randomBytes(32).toString('hex'),
        ipAddress: formatIPv4(address),
        prefixLength: subnet.prefix,
        gateway: network.gateway,
        macAddress: request.macAddress?.toLowerCase() ?? macForAddress(address),
        ports,
        // Unique per container and network, within the 15 characters of an interface name.
        hostInterface: `veth${containerId.slice(0, 7)}${network.id.slice(0, 3)}${index}`,
        dnsNames: [...new Set(request.names.map((n) => n.toLowerCase()))],
        aliases: request.aliases,
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

  /**
   * Before the runtime runs: the container's network namespace with a veth end per endpoint (ethN
   * in order) and the bridges up. Returns the namespace's path for the runtime spec.
   */
  async prepareSandbox(containerId: string, endpoints: readonly EndpointRecord[]): Promise<string> {
    const networks = this.networksOf(endpoints);
    await this.lock.run(async () => {
      for (const network of networks) await this.bringUp(network);
      await this.coverWithFirewall(networks);
    });
    return this.deps.links.createSandbox(this.names.name(containerId), endpoints.map((e, index) => ({ hostName: e.hostInterface, bridge: networks[index]!.bridge, interfaceName: `eth${index}` })));
  }

  /** While the runtime creates the container: addresses and routes inside, then the published ports. */
  async configureSandbox(containerId: string, endpoints: readonly EndpointRecord[]): Promise<void> {
    const networks = this.networksOf(endpoints);
    await this.deps.links.configureSandbox(
      this.names.name(containerId),
      endpoints.map((e, index) => ({ interfaceName: `eth${index}`, mac: e.macAddress, address: e.ipAddress, prefixLength: e.prefixLength, gateway: e.gateway, defaultRoute: index === 0 && !networks[index]!.internal })),
    );
    if (endpoints.some((e) => e.ports.length > 0)) await this.lock.run(() => this.applyFirewall());
    for (const [index, network] of networks.entries()) {
      this.deps.publish({ Type: 'network', Action: 'connect', Actor: { ID: network.id, Attributes: { container: endpoints[index]!.containerId, name: network.name, type: 'bridge' } } });
    }
  }

  /** The network of each endpoint, in the same order. */
  private networksOf(endpoints: readonly EndpointRecord[]): NetworkRecord[] {
    return endpoints.map((e) => this.state.networks.find((n) => n.id === e.networkId)!);
  }

  /** Wires a reserved endpoint into the container's namespace (as ethN) and opens its ports. */
  async plumb(endpoint: EndpointRecord, pid: number, interfaceName: string, defaultRoute: boolean): Promise<void> {
    const network = this.state.networks.find((n) => n.id === endpoint.networkId)!;
    await this.lock.run(async () => {
      await this.bringUp(network);
      await this.coverWithFirewall([network]);
    });
    await this.deps.links.plumb({ pid, hostName: endpoint.hostInterface, bridge: network.bridge, address: endpoint.ipAddress, prefixLength: endpoint.prefixLength, gateway: endpoint.gateway, mac: endpoint.macAddress, interfaceName, defaultRoute: defaultRoute && !network.internal });
    if (endpoint.ports.length > 0) await this.lock.run(() => this.applyFirewall());
    this.deps.publish({ Type: 'network', Action: 'connect', Actor: { ID: network.id, Attributes: { container: endpoint.containerId, name: network.name, type: 'bridge' } } });
  }

  /** Releases a container's endpoints (all, or the one on `networkId`). */
  async disconnect(containerId: string, networkId?: string): Promise<void> {
    await this.lock.run(async () => {
      const gone = this.state.endpoints.filter((e) => e.containerId === containerId && (!networkId || e.networkId === networkId));
      if (!networkId) this.wiredHere.delete(containerId);
      // All of them: the sandbox goes too, its veth pairs with it.
      if (!networkId) await this.deps.links.deleteSandbox(this.names.name(containerId), gone.map((e) => e.hostInterface)).catch(() => undefined);
      if (gone.length === 0) return;
      this.state.endpoints = this.state.endpoints.filter((e) => !gone.includes(e));
      await this.save();
      if (gone.some((e) => e.ports.length > 0)) await this.applyFirewall();
      for (const endpoint of gone) {
        await this.deps.links.removeLink(endpoint.hostInterface).catch(() => undefined);
        const network = this.state.networks.find((n) => n.id === endpoint.networkId);
        this.deps.publish({ Type: 'network', Action: 'disconnect', Actor: { ID: endpoint.networkId, Attributes: { container: containerId, name: network?.name ?? '', type: 'bridge' } } });
      }
    });
  }

  /** At berthd's stop: DNS servers stop; with no container running, bridges and the table go too. */
  async shutdown(): Promise<void> {
    await this.lock.run(async () => {
      for (const dns of this.dns.values()) await dns.stop();
      this.dns.clear();
      if (this.state.endpoints.length > 0) return;
      await this.removeFirewall();
      for (const network of this.state.networks) if (network.bridge) await this.releaseDevice(network);
    });
  }

  private firewallState(): FirewallState {
    const bridges = this.state.networks.filter((n) => n.driver === 'bridge' && (n.name !== 'bridge' || this.endpointsOn(n.id).length > 0));
    return {
      networks: bridges.map((n) => ({ bridge: n.bridge, subnet: n.subnet, internal: n.internal })),
      ports: this.state.endpoints.flatMap((e) => e.ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: e.ipAddress, containerPort: p.containerPort }))),
    };
  }

  private async applyFirewall(): Promise<void> {
    if (this.state.firewallInstalled !== true) {
      // Recorded before the table exists, so a crash in between still makes the next start look.
      this.state.firewallInstalled = true;
      await this.save();
    }
    const state = this.firewallState();
    await this.deps.firewall.apply(state);
    this.firewallBridges = new Set(state.networks.map((n) => n.bridge));
    // After the table: its drop of 127.0.0.0/8 from outside lo is what makes this safe.
    for (const n of state.networks) await this.deps.links.allowLoopbackDnat(n.bridge);
  }

  /** The table covers these networks' bridges (masquerade, isolation, the loopback guard) before a container uses them. */
  private async coverWithFirewall(networks: readonly NetworkRecord[]): Promise<void> {
    if (networks.some((n) => !this.firewallBridges.has(n.bridge))) await this.applyFirewall();
  }

  private async removeFirewall(): Promise<void> {
    await this.deps.firewall.remove();
    this.firewallBridges.clear();
    this.state.firewallInstalled = false;
    await this.save();
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
