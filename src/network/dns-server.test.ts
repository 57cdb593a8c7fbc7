/**
 * The embedded DNS server with real sockets on loopback addresses (127.77.x.y stands for a
 * network's subnet) and a fake upstream resolver the test runs: nothing leaves the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { EmbeddedDns, type DnsServerOptions } from './dns-server.js';
import { RCODE_SERVFAIL, TYPE_A } from './dns-message.js';

const SERVER = '127.77.0.1';
const MEMBER = '127.77.0.9';
const STRANGER = '127.78.0.9';
const UPSTREAM = '127.77.0.53';

function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, TYPE_A, 0, 1])]);
}

const rcode = (reply: Buffer) => reply.readUInt16BE(2) & 0xf;
const answers = (reply: Buffer) => reply.readUInt16BE(6);

async function startServer(t: { after: (fn: () => unknown) => void }, options: Partial<DnsServerOptions> = {}): Promise<EmbeddedDns> {
  const dns = new EmbeddedDns(
    { addresses: (name) => (name === 'web' ? ['10.9.0.5'] : []), nameOf: () => undefined },
    { accepts: (address) => address.startsWith('127.77.0.'), upstreams: () => [], port: 0, ...options },
  );
  await dns.start(SERVER);
  t.after(() => dns.stop());
  return dns;
}

async function udpClient(t: { after: (fn: () => unknown) => void }, address: string): Promise<{ socket: UdpSocket; replies: Buffer[]; next: () => Promise<Buffer> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  t.after(() => socket.close());
  const replies: Buffer[] = [];
  const waiting: ((b: Buffer) => void)[] = [];
  socket.on('message', (m) => (waiting.length > 0 ? waiting.shift()!(m) : replies.push(m)));
  return { socket, replies, next: () => new Promise((r) => (replies.length > 0 ? r(replies.shift()!) : waiting.push(r))) };
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer));
}

/** Resolves true once `condition` holds, false if it still does not after `ms`. */
async function within(ms: number, condition: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('answers its own network\'s clients and drops everyone else (UDP and TCP)', async (t) => {
  const dns = await startServer(t);
  const member = await udpClient(t, MEMBER);
  member.socket.send(query(1, 'web'), dns.boundPort, SERVER);
  const reply = await member.next();
  assert.equal(rcode(reply), 0);
  assert.equal(answers(reply), 1);

  const stranger = await udpClient(t, STRANGER);
  stranger.socket.send(query(2, 'web'), dns.boundPort, SERVER);
  // The member's second query, sent after the stranger's, is answered; the stranger never is.
  member.socket.send(query(3, 'web'), dns.boundPort, SERVER);
  assert.equal((await member.next()).readUInt16BE(0), 3);
  assert.equal(await within(300, () => stranger.replies.length > 0), false);

  const tcp = connect({ host: SERVER, port: dns.boundPort, localAddress: STRANGER });
  t.after(() => tcp.destroy());
  let received = 0;
  tcp.on('data', (c: Buffer) => (received += c.length));
  tcp.on('error', () => undefined);
  tcp.on('connect', () => tcp.write(Buffer.concat([Buffer.from([0, query(4, 'web').length]), query(4, 'web')])));
  assert.equal(await settlesWithin(5000, new Promise((r) => tcp.once('close', r))), true, 'a stranger\'s connection is closed');
  assert.equal(received, 0);
});

test('at most maxForwards queries go upstream at once; the rest get SERVFAIL straight away', async (t) => {
  const upstream = createSocket('udp4');
  await new Promise<void>((r) => upstream.bind(0, UPSTREAM, () => r()));
  t.after(() => upstream.close());
  const held: { packet: Buffer; port: number; address: string }[] = [];
  upstream.on('message', (packet, peer) => held.push({ packet, port: peer.port, address: peer.address }));
  const dns = await startServer(t, { upstreams: () => [UPSTREAM], upstreamPort: upstream.address().port, maxForwards: 3 });

  const client = await udpClient(t, MEMBER);
  for (let id = 10; id < 15; id++) client.socket.send(query(id, `name${id}.example`), dns.boundPort, SERVER);
  assert.ok(await within(2000, () => client.replies.length >= 2 && held.length >= 3), `replies ${client.replies.length}, upstream got ${held.length}`);
  assert.deepEqual(client.replies.map(rcode), [RCODE_SERVFAIL, RCODE_SERVFAIL]);
  assert.equal(held.length, 3);

  // The upstream answers the ones it holds: they reach the client, and the slots are free again.
  for (const h of held.splice(0)) {
    const reply = Buffer.from(h.packet);
    reply.writeUInt16BE(0x8180, 2);
    upstream.send(reply, h.port, h.address);
  }
  assert.ok(await within(2000, () => client.replies.length === 5));
  assert.deepEqual(client.replies.slice(2).map(rcode), [0, 0, 0]);
  client.socket.send(query(20, 'again.example'), dns.boundPort, SERVER);
  assert.ok(await within(2000, () => held.length === 1));
});

test('TCP: connections beyond the cap are closed, and an idle one is closed after the idle time', async (t) => {
  const dns = await startServer(t, { maxTcpConnections: 2, tcpIdleMs: 200 });
  const open = (): { socket: Socket; data: Buffer[]; closed: Promise<void> } => {
    const socket = connect({ host: SERVER, port: dns.boundPort, localAddress: MEMBER });
    t.after(() => socket.destroy());
    const data: Buffer[] = [];
    socket.on('data', (c: Buffer) => data.push(c));
    socket.on('error', () => undefined);
    return { socket, data, closed: new Promise((r) => socket.once('close', () => r())) };
  };
  const ask = (c: ReturnType<typeof open>) => c.socket.write(Buffer.concat([Buffer.from([0, query(5, 'web').length]), query(5, 'web')]));
  const first = open();
  const second = open();
  ask(first);
  ask(second);
  assert.ok(await within(2000, () => first.data.length > 0 && second.data.length > 0), 'both answered');
  const third = open();
  ask(third);
  assert.equal(await settlesWithin(5000, third.closed), true, 'a third connection is closed');
  assert.deepEqual(third.data, []);
  // Neither of the first two sends anything more: the server ends both.
  assert.equal(await settlesWithin(5000, Promise.all([first.closed, second.closed])), true, 'idle connections are closed');
});
