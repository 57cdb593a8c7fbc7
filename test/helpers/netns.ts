/**
 * Network namespaces a test makes for itself (a "LAN neighbour" on a bridge, an "outside" host
 * routed through the host), each removed by the test, and a TCP client that runs inside one.
 * Traffic goes only to 127.0.0.0/8 and to addresses of the test's own namespaces and containers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface TestNamespace {
  name: string;
  /** The veth end in the host's namespace. */
  hostSide: string;
  /** The veth end inside the namespace. */
  inside: string;
  remove(): void;
}

/** A namespace with one veth pair to the host (both ends down, no addresses yet). */
export function makeNamespace(label: string): TestNamespace {
  const tag = randomBytes(4).toString('hex');
  const name = `berth-test-${label}-${tag}`;
  const hostSide = `tv${tag}h`;
  const inside = `tv${tag}n`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', inside, 'netns', name);
  } catch (err) {
    ip('netns', 'delete', name);
    throw err;
  }
  return {
    name,
    hostSide,
    inside,
    remove: () => {
      spawnSync('ip', ['link', 'delete', hostSide], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    },
  };
}

/** Runs `ip` inside the namespace. */
export function ipIn(namespace: TestNamespace, ...args: string[]): string {
  return ip('-n', namespace.name, ...args);
}

export function sysctlIn(namespace: TestNamespace, key: string, value: string): void {
  const r = spawnSync('ip', ['netns', 'exec', namespace.name, 'sh', '-c', `echo ${value} > /proc/sys/${key.replace(/\./g, '/')}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysctl ${key} in ${namespace.name}: ${r.stderr.trim()}`);
}

const CLIENT = `
const net = require('node:net');
const [host, port, payload, waitMs] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
let data = '';
const finish = (line) => { process.stdout.write(line + '\\n'); socket.destroy(); process.exit(0); };
const timer = setTimeout(() => finish(data ? 'DATA ' + JSON.stringify(data) : 'NO CONNECTION'), Number(waitMs));
socket.on('connect', () => { if (payload) socket.write(payload); else { clearTimeout(timer); finish('CONNECTED'); } });
socket.on('data', (c) => { data += c; });
socket.on('end', () => { clearTimeout(timer); finish('DATA ' + JSON.stringify(data)); });
socket.on('error', (e) => { clearTimeout(timer); finish('ERROR ' + e.code); });
`;

/**
 * Connects from inside the namespace to host:port, sends `payload` (if any) and reports
 * "CONNECTED", "DATA <json>", "ERROR <code>", or "NO CONNECTION" when nothing came within `waitMs`.
 */
export function connectFrom(namespace: TestNamespace, host: string, port: number, options: { payload?: string; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', namespace.name, process.execPath, '-e', CLIENT, host, String(port), options.payload ?? '', String(options.waitMs ?? 3000)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`client in ${namespace.name} exited ${code}: ${err}`))));
  });
}

const DNS_CLIENT = `
const dgram = require('node:dgram');
const [server, name, waitMs] = process.argv.slice(1);
const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const query = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
const socket = dgram.createSocket('udp4');
const timer = setTimeout(() => { process.stdout.write('NO ANSWER\\n'); process.exit(0); }, Number(waitMs));
socket.on('message', (m) => { clearTimeout(timer); process.stdout.write('RCODE ' + (m.readUInt16BE(2) & 15) + ' ANSWERS ' + m.readUInt16BE(6) + '\\n'); process.exit(0); });
socket.send(query, 53, server);
`;

/** Asks `server` (UDP port 53) for `name`'s A record from inside the namespace: "RCODE r ANSWERS n" or "NO ANSWER". */
export function dnsQueryFrom(namespace: TestNamespace, server: string, name: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', namespace.name, process.execPath, '-e', DNS_CLIENT, server, name, String(waitMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`DNS client in ${namespace.name} exited ${code}: ${err}`))));
  });
}
