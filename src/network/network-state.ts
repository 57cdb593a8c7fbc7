/**
 * What berth's networking must remember across restarts, in one JSON file written atomically:
 * the networks, and each running container's endpoint (address, MAC, published ports), so an
 * address or port is never handed out twice and the firewall can be re-rendered after a crash.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { errnoCode } from '../lib/errors.js';

export interface NetworkRecord {
  id: string;
  name: string;
  /** bridge networks have a device; host and null are Docker's predefined "host" and "none". */
  driver: 'bridge' | 'host' | 'null';
  /** The bridge device ('' for host and none). */
  bridge: string;
  /**
   * Whether berth made the bridge device: only then does it delete it. A bridge that was on the
   * host before is borrowed, and given back as it was found (see `borrowed`).
   */
  bridgeCreated?: boolean;
  /** On a borrowed bridge, what berth changed: the gateway address it added, route_localnet as it was. */
  borrowed?: BorrowedBridge;
  subnet: string;
  gateway: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  attachable: boolean;
  /** Addresses are handed out from this range when set (IPAM IPRange). */
  ipRange?: string;
  created: string;
}

export interface BorrowedBridge {
  addedGateway: boolean;
  routeLocalnet: string;
}

export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export interface EndpointRecord {
  containerId: string;
  networkId: string;
  endpointId: string;
  ipAddress: string;
  prefixLength: number;
  gateway: string;
  macAddress: string;
  ports: PublishedPort[];
  /** The host side of the veth pair. */
  hostInterface: string;
  /** Names the network's DNS answers with this address: container name, aliases, short ID. */
  dnsNames: string[];
  aliases: string[];
}

export interface NetworkStateData {
  networks: NetworkRecord[];
  endpoints: EndpointRecord[];
  /** False once berthd removed its nftables table (a clean stop): the next start need not. */
  firewallInstalled?: boolean;
}

export async function loadNetworkState(path: string): Promise<NetworkStateData> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Partial<NetworkStateData>;
    return { networks: data.networks ?? [], endpoints: data.endpoints ?? [], ...(data.firewallInstalled !== undefined ? { firewallInstalled: data.firewallInstalled } : {}) };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { networks: [], endpoints: [] };
    throw err;
  }
}

export async function saveNetworkState(path: string, state: NetworkStateData): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 1)}\n`);
}
