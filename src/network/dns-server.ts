/**
 * The embedded DNS server of a user-defined network: berthd answers on the network's gateway
 * address (UDP and TCP port 53) with the addresses of the network's containers, by name, alias and
 * short ID, and PTR records for them; AAAA questions for known names get an empty answer. Other
 * names are forwarded to the host's resolvers (berthd runs on the host, so loopback ones work too).
 * It answers only its own network's containers (the gateway is a host address any route reaches),
 * and caps what a client can make it hold: forwards in flight, TCP connections and their idle time.
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

export interface DnsServerOptions {
  /** Whether a client address may ask (the network's own subnet); other packets are dropped. */
  accepts(address: string): boolean;
  /** The host's resolvers, for names the network does not know. */
  upstreams(): string[];
  /** 53 unless a test says otherwise, for both the server and its upstreams. */
  port?: number;
  upstreamPort?: number;
  /** Queries being forwarded at once; beyond it a query gets SERVFAIL at once. */
  maxForwards?: number;
  /** TCP clients at once; beyond it a new connection is closed. */
  maxTcpConnections?: number;
  /** A TCP client that sends nothing for this long is disconnected. */
  tcpIdleMs?: number;
}

const TTL = 600;
const FORWARD_TIMEOUT_MS = 3000;
/** A TCP client that does not read its answers is disconnected once this much waits for it. */
const TCP_PENDING_BYTES = 256 * 1024;

export class EmbeddedDns {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private forwarding = 0;
  private readonly clients = new Set<Socket>();
  private readonly port: number;
  private readonly upstreamPort: number;
  private readonly maxForwards: number;
  private readonly tcpIdleMs: number;

  constructor(
    private readonly records: DnsRecords,
    private readonly options: DnsServerOptions,
  ) {
    this.port = options.port ?? 53;
    this.upstreamPort = options.upstreamPort ?? 53;
    this.maxForwards = options.maxForwards ?? 100;
    this.tcpIdleMs = options.tcpIdleMs ?? 10_000;
  }

  async start(address: string): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (packet, peer) => {
      if (!this.options.accepts(peer.address)) return;
      void this.answer(packet, 'udp').then((reply) => {
        if (reply && this.udp === udp) udp.send(reply, peer.port, peer.address);
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', () => undefined);
    this.udp = udp;
    const tcp = createServer((socket) => this.serveTcp(socket));
    tcp.maxConnections = this.options.maxTcpConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      // The port UDP got (the same one when the system chose it).
      tcp.listen(udp.address().port, address, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
  }

  /** The UDP and TCP port it answers on (the one given, or the one the system chose for 0). */
  get boundPort(): number {
    return this.udp?.address().port ?? this.port;
  }

  async stop(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    // close() waits for every client to go: they are ended here instead.
    for (const socket of this.clients) socket.destroy();
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

  /** The first upstream's reply; undefined (SERVFAIL) when none answers or too many forwards are out. */
  private async forward(packet: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (this.forwarding >= this.maxForwards) return undefined;
    this.forwarding++;
    try {
      for (const upstream of this.options.upstreams()) {
        const reply = transport === 'udp' ? await forwardUdp(packet, upstream, this.upstreamPort) : await forwardTcp(packet, upstream, this.upstreamPort);
        if (reply) return reply;
      }
      return undefined;
    } finally {
      this.forwarding--;
    }
  }

  private serveTcp(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    if (!socket.remoteAddress || !this.options.accepts(socket.remoteAddress)) {
      socket.destroy();
      return;
    }
    this.clients.add(socket);
    socket.once('close', () => this.clients.delete(socket));
    socket.setTimeout(this.tcpIdleMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        void this.answer(Buffer.from(message), 'tcp').then((reply) => {
          if (!reply || socket.destroyed) return;
          if (socket.writableLength > TCP_PENDING_BYTES) {
            socket.destroy();
            return;
          }
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([length, reply]));
        });
      }
    });
  }
}

function forwardUdp(packet: Buffer, upstream: string, port: number): Promise<Buffer | undefined> {
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
    socket.send(packet, port, upstream);
  });
}

function forwardTcp(packet: Buffer, upstream: string, port: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, upstream);
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
