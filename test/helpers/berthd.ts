/**
 * Starts a private berthd for one test file: its own temp data root, exec root and socket, so a
 * test never touches a berthd it did not start. stop() ends it by PID and removes every file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BERTHD = join(REPO_ROOT, 'bin', 'berthd');
export const BERTH = join(REPO_ROOT, 'bin', 'berth');

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestDaemon {
  root: string;
  /** The default network's bridge device (and `berth_<bridge>` its nftables table). */
  bridge: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  host: string;
  pid: number;
  process: ChildProcess;
  logs(): string;
  request(method: string, path: string, options?: { body?: string | Buffer; headers?: Record<string, string> }): Promise<HttpResult>;
  /** SIGTERM, wait for the exit; returns the exit code. Files stay until cleanup(). */
  stop(): Promise<number | null>;
  /** stop() if still running, then remove the temp root. */
  cleanup(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
});

/** Kills containers a test left running (by their conmon pid) and unmounts their root filesystems. */
async function removeContainersOf(execRoot: string): Promise<void> {
  const dir = join(execRoot, 'containers');
  const ids = await readdir(dir).catch(() => [] as string[]);
  for (const id of ids) {
    const conmon = Number((await readFile(join(dir, id, 'conmon.pid'), 'utf8').catch(() => '')).trim());
    spawnSync('runc', ['kill', id, 'KILL'], { stdio: 'ignore' });
    if (conmon > 0) {
      try {
        process.kill(conmon, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('runc', ['delete', '--force', id], { stdio: 'ignore' });
    spawnSync('umount', ['-l', join(dir, id, 'rootfs')], { stdio: 'ignore' });
    spawnSync('umount', ['-l', join(dir, id, 'shm')], { stdio: 'ignore' });
  }
}

interface RecordedNetworkState {
  networks?: { bridge?: string; driver?: string; bridgeCreated?: boolean; name?: string; id?: string }[];
  endpoints?: { hostInterface?: string; containerId?: string }[];
}

/**
 * A safety net after berthd's own clean-up (and all there is after a SIGKILL): what the daemon's
 * `<dataRoot>/network/state.json` records (the bridges it made, its veths) and its own network
 * namespaces (`berth-<bridge>-<id>`), the default bridge and the nftables table. Only this daemon's:
 * a bridge it borrowed from the host (`bridgeCreated: false`) stays.
 */
function removeNetworkOf(bridge: string, dataRoot: string, bridgeGiven: boolean): void {
  let state: RecordedNetworkState = {};
  try {
    state = JSON.parse(readFileSync(join(dataRoot, 'network', 'state.json'), 'utf8')) as RecordedNetworkState;
  } catch {
    // never written (berthd did not get that far) or half a file: the names below still hold
  }
  const networks = (state.networks ?? []).filter((n) => n.driver === 'bridge' && typeof n.bridge === 'string' && n.bridge !== '');
  // As berthd reads a record from before it kept bridgeCreated: br-<id> and the default bridge were its own.
  const made = (n: (typeof networks)[number]) => n.bridgeCreated ?? (n.name === 'bridge' || n.bridge === `br-${n.id?.slice(0, 12)}`);
  const ownNamespaces = (existsSync('/run/netns') ? readdirSync('/run/netns') : []).filter((n) => n.startsWith(`berth-${bridge}-`));
  for (const name of ownNamespaces) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  const veths = new Set((state.endpoints ?? []).map((e) => e.hostInterface).filter((n): n is string => typeof n === 'string' && /^veth[0-9a-f]+$/.test(n)));
  // And whatever veth is still on a bridge berth made (one whose record a crash lost).
  for (const n of networks.filter(made)) for (const port of existsSync(`/sys/class/net/${n.bridge}/brif`) ? readdirSync(`/sys/class/net/${n.bridge}/brif`) : []) if (port.startsWith('veth')) veths.add(port);
  for (const veth of veths) if (existsSync(`/sys/class/net/${veth}`)) spawnSync('ip', ['link', 'delete', veth], { stdio: 'ignore' });
  const bridges = new Set(networks.filter(made).map((n) => n.bridge!));
  const defaultRecord = networks.find((n) => n.name === 'bridge' && n.bridge === bridge);
  if (defaultRecord ? made(defaultRecord) : !bridgeGiven) bridges.add(bridge);
  for (const b of bridges) if (existsSync(`/sys/class/net/${b}`)) spawnSync('ip', ['link', 'delete', b], { stdio: 'ignore' });
  spawnSync('nft', ['delete', 'table', 'ip', `berth_${bridge}`], { stdio: 'ignore' });
}

async function removeCgroupParent(parent: string): Promise<void> {
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    await rmdir(join('/sys/fs/cgroup', controller, parent)).catch(() => undefined);
  }
  await rmdir(join('/sys/fs/cgroup', parent)).catch(() => undefined);
}

export async function makeTempRoot(prefix = 'berth-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function httpRequest(socket: string, method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { Host: 'berth', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Spawns berthd with `args` (no defaults added) and collects its output. */
export function spawnBerthd(args: string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BERTHD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => {
    running.delete(child);
    r(code);
  }));
  return { child, output: () => output, exited };
}

/**
 * `root` reuses a daemon's temp root (a restart, after a stop or a crash). `keepRootOnFailure`
 * leaves that root in place when berthd fails to start (a crash harness keeps the evidence).
 * `env` replaces berthd's environment (a PATH without runc).
 */
export async function startBerthd(options: { root?: string; extraArgs?: string[]; bridge?: string; bip?: string; keepRootOnFailure?: boolean; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {}): Promise<TestDaemon> {
  const root = options.root ?? (await makeTempRoot());
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'run');
  const socket = join(root, 'berth.sock');
  // An explicit config file keeps the host's /etc/berth/daemon.json out of tests.
  const configFile = join(root, 'daemon.json');
  if (!existsSync(configFile)) await writeFile(configFile, '{}\n');
  // Containers go under a cgroup parent of this daemon's own, removed by cleanup().
  const cgroupParent = `berth-test-${basename(root)}`;
  // Each test daemon has its own bridge, subnet and nftables table, so daemons running side by
  // side never share one (a subnet the host routes makes berthd refuse it: then try another).
  // Derived from the root, so a daemon restarted on the same root finds its network unchanged.
  const digest = createHash('sha256').update(root).digest();
  const bridge = options.bridge ?? `bt${digest.subarray(0, 4).toString('hex')}`;
  const bip = options.bip ?? `10.${200 + (digest[4]! % 50)}.${digest[5]!}.1/24`;
  const args = ['--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--config-file', configFile, '--cgroup-parent', cgroupParent, '--bridge', bridge, '--bip', bip, ...(options.extraArgs ?? [])];
  const { child, output, exited } = spawnBerthd(args, options.env);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      if (!options.keepRootOnFailure) await rm(root, { recursive: true, force: true });
      throw new Error(`berthd exited with ${exitCode} before answering /_ping:\n${output()}`);
    }
    const ok = await httpRequest(socket, 'GET', '/_ping').then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      if (!options.keepRootOnFailure) await rm(root, { recursive: true, force: true });
      throw new Error(`berthd did not answer /_ping within ${readyTimeoutMs / 1000} s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    root,
    dataRoot,
    execRoot,
    socket,
    bridge,
    host: `unix://${socket}`,
    pid: child.pid!,
    process: child,
    logs: output,
    request: (method, path, requestOptions) => httpRequest(socket, method, path, requestOptions),
    stop,
    cleanup: async () => {
      await stop();
      await removeContainersOf(execRoot);
      removeNetworkOf(bridge, dataRoot, options.bridge !== undefined);
      await removeCgroupParent(cgroupParent);
      await rm(root, { recursive: true, force: true });
    },
  };
}
