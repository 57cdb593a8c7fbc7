/**
 * The embedded DNS server of a user-defined network: berthd answers on the network's gateway
 * address (UDP and TCP port 53) with the addresses of the network's containers, by name, alias and
 * short ID, and PTR records for them; AAAA questions for known names get an empty answer. Other
 * names are forwarded to the host's resolvers (berthd runs on the host, so loopback ones work too).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { buildResponse, parseQuery, reverseName, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, TYPE_PTR, type DnsAnswer } from './dns-message.js';

export interface DnsRecords {
  /** Addresses for a name on this network (empty: not a name berth knows). */
  addresses(name: string): string[];
  /** The name for an address on this network. */
  nameOf(address: string): string | undefined;
}

const TTL = 600;
const FORWARD_TIMEOUT_MS = 3000;

export class EmbeddedDns {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;

  constructor(
    private readonly records: DnsRecords,
    private readonly upstreams: () => string[],
  ) {}

  async start(address: string): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (packet, peer) => {
      void this.answer(packet, 'udp').then((reply) => reply && udp.send(reply, peer.port, peer.address));
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', () => undefined);
    this.udp = udp;
    const tcp = createServer((socket) => this.serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(53, address, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
  }

  async stop(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
    this.tcp = undefined;
  }

  /** The reply to one query: local when the name is the network's, else the upstream's. */
  private async answer(packet: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const question = parseQuery(packet);
    if (!question) return undefined;
    if (question.type === TYPE_PTR) {
      const address = reverseName(question.name);
      const name = address ? this.records.nameOf(address) : undefined;
      if (name) return buildResponse(packet, question, [{ type: TYPE_PTR, data: name, ttl: TTL }]);
    } else {
      const addresses = this.records.addresses(question.name);
      if (addresses.length > 0) {
        const answers: DnsAnswer[] = question.type === TYPE_A ? addresses.map((a) => ({ type: TYPE_A, data: a, ttl: TTL })) : [];
        return buildResponse(packet, question, question.type === TYPE_A || question.type === TYPE_AAAA ? answers : []);
      }
    }
    const forwarded = await this.forward(packet, transport).catch(() => undefined);
    return forwarded ?? buildResponse(packet, question, [], RCODE_SERVFAIL);
  }

  private async forward(packet: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const upstream of this.upstreams()) {
      const reply = transport === 'udp' ? await forwardUdp(packet, upstream) : await forwardTcp(packet, upstream);
      if (reply) return reply;
    }
    return undefined;
  }

  private serveTcp(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        void this.answer(Buffer.from(message), 'tcp').then((reply) => {
          if (!reply || socket.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([length, reply]));
        });
      }
    });
  }
}

function forwardUdp(packet: Buffer, upstream: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (reply?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(), FORWARD_TIMEOUT_MS);
    socket.on('error', () => done());
    socket.on('message', (reply) => done(reply));
    socket.send(packet, 53, upstream);
  });
}

function forwardTcp(packet: Buffer, upstream: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect(53, upstream);
    let buffered = Buffer.alloc(0);
    const done = (reply?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(), FORWARD_TIMEOUT_MS);
    socket.on('error', () => done());
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(packet.length);
      socket.write(Buffer.concat([length, packet]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) done(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
    });
  });
}

/** The nameservers of a resolv.conf. */
export function nameservers(resolvConf: string): string[] {
  return resolvConf.split('\n').map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1]).filter((a): a is string => a !== undefined);
}
