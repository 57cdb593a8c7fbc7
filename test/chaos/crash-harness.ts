/**
 * The crash harness: parallel operations against a real berthd, SIGKILL at a random moment
 * (seeded: the seed is printed and CHAOS_SEED replays it), a restart on the same data root, then
 * the invariants a user relies on. At the end everything is removed through the API, berthd stops
 * cleanly, and nothing of that daemon may be left on the host.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { startBerthd, makeTempRoot, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTar } from '../../src/archive/tar-writer.js';
import { chainIds } from '../../src/snapshots/snapshotter.js';
import { busyboxLayer } from './busybox-layer.js';

export interface Violation {
  killPoint: number;
  invariant: string;
  detail: string;
}

/** mulberry32: a small seeded generator, so a run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reply {
  status: number;
  body: Buffer;
  text: string;
}

/** A request berthd did not answer in time: the run fails naming it, instead of hanging. */
export class HungRequestError extends Error {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${path} got no complete answer within ${timeoutMs / 1000} s`);
  }
}

/** Long enough for a loaded 2-core machine (a pull or rm -f takes seconds there), short of a hang. */
export const REQUEST_TIMEOUT_MS = 90_000;

export function api(socket: string, method: string, path: string, body?: Buffer | string | object, headers: Record<string, string> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply> {
  const data = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const contentType = body !== undefined && !Buffer.isBuffer(body) && typeof body === 'object' ? { 'Content-Type': 'application/json' } : {};
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    const req = request({ socketPath: socket, method, path: `/v1.50${path}`, headers: { Host: 'berth', ...contentType, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: all, text: all.toString('utf8') });
      });
      res.on('error', fail);
      // berthd killed mid-answer: no 'end' and no request error, only the close.
      res.on('close', () => {
        if (!res.complete) fail(new Error(`${method} ${path}: the connection closed mid-answer`));
      });
    });
    // The whole exchange, not only socket idleness: a streamed answer that never ends is a hang too.
    // Unref'd: an exchange that ended some other way must not keep the test process alive.
    timer = setTimeout(() => {
      reject(new HungRequestError(method, path, timeoutMs));
      req.destroy();
    }, timeoutMs);
    timer.unref();
    req.on('error', fail);
    req.end(data);
  });
}

/** stdout of a non-TTY container's logs (Docker's 8-byte frame headers removed). */
function demux(body: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= body.length; ) {
    const size = body.readUInt32BE(at + 4);
    if (body[at] === 1) out += body.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return out;
}

const TICKER = ['sh', '-c', 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done'];
const EXITER = ['sh', '-c', 'echo bye; exit 3'];
const AUTH = { 'X-Registry-Auth': Buffer.from('{}').toString('base64') };

interface ContainerInspect {
  Id: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
  Config: { Labels?: Record<string, string> };
}

export class CrashHarness {
  readonly violations: Violation[] = [];
  readonly log: string[] = [];
  /** Every container ID this run created: what the host may not keep after the end. */
  private readonly seenIds = new Set<string>();
  /** Containers a rm -f was sent for: any state (or gone) is fine for them. */
  private readonly removing = new Set<string>();
  /** Containers a user paused (then unpaused, unless the crash came between): Paused is fine for them. */
  private readonly userPaused = new Set<string>();
  private daemon!: TestDaemon;
  private registry!: TestRegistry;
  private root!: string;
  private killPoint = 0;
  private serial = 0;
  private readonly random: () => number;

  constructor(readonly seed: number, private readonly progress = false) {
    this.random = seededRandom(seed);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length ? items[Math.floor(this.random() * items.length)] : undefined;
  }

  /** Records a violation once: a container stuck in a bad state is not news at every kill point. */
  private violation(invariant: string, detail: string): void {
    if (this.violations.some((v) => v.invariant === invariant && v.detail === detail)) return;
    this.violations.push({ killPoint: this.killPoint, invariant, detail });
  }

  private call(method: string, path: string, body?: Buffer | string | object, headers?: Record<string, string>): Promise<Reply> {
    return api(this.daemon.socket, method, path, body, headers);
  }

  async setUp(): Promise<void> {
    const t0 = Date.now();
    const mark = (what: string) => this.log.push(`set-up: ${what} at ${Date.now() - t0} ms`);
    this.root = await makeTempRoot('berth-chaos-');
    this.registry = await startRegistry();
    this.daemon = await startBerthd({ root: this.root, keepRootOnFailure: true });
    mark('berthd up');
    // Big bodies go through the docker CLI: berthd (today) resets a Node client's 2 MB import
    // body with EPIPE, the known captured-requests failure.
    await writeFile(join(this.root, 'busybox.tar'), busyboxLayer());
    const imported = await docker(this.daemon.host, ['import', '-c', 'CMD ["sh"]', join(this.root, 'busybox.tar'), 'busybox:latest']);
    if (imported.code !== 0) throw new Error(`import busybox: ${imported.stderr}`);
    mark('busybox imported');
    // A second image with a layer of its own, pushed to the registry, so pulls download and unpack.
    const made = await this.createContainer(['sh', '-c', 'head -c 3000000 /dev/urandom > /payload'], 'setup');
    await this.call('POST', `/containers/${made}/start`);
    await this.call('POST', `/containers/${made}/wait`);
    mark('payload written');
    const committed = await this.call('POST', `/commit?container=${made}&repo=${this.registry.host}/chaos/app&tag=latest`);
    if (committed.status !== 201) throw new Error(`commit: ${committed.text}`);
    mark('committed');
    await this.call('DELETE', `/containers/${made}?force=1`);
    const pushed = await this.call('POST', `/images/${this.registry.host}/chaos/app/push?tag=latest`, undefined, AUTH);
    if (pushed.status !== 200 || /"error"/.test(pushed.text)) throw new Error(`push: ${pushed.text}`);
    mark('pushed');
  }

  private async createContainer(cmd: string[], kind: string, extra: Record<string, unknown> = {}): Promise<string> {
    const name = `chaos-${kind}-${++this.serial}`;
    const created = await this.call('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: cmd, Labels: { 'chaos.kind': kind }, ...extra });
    if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${created.text}`);
    const id = (JSON.parse(created.text) as { Id: string }).Id;
    this.seenIds.add(id);
    return id;
  }

  private async containers(): Promise<ContainerInspect[]> {
    const list = JSON.parse((await this.call('GET', '/containers/json?all=1')).text) as { Id: string }[];
    const out: ContainerInspect[] = [];
    for (const { Id } of list) {
      const r = await this.call('GET', `/containers/${Id}/json`);
      if (r.status === 200) out.push(JSON.parse(r.text) as ContainerInspect);
    }
    return out;
  }

  /** One operation a user might be doing when berthd dies. */
  private operations(known: ContainerInspect[]): (() => Promise<unknown>)[] {
    const running = known.filter((c) => c.State.Running && c.Config.Labels?.['chaos.kind'] === 'ticker').map((c) => c.Id);
    const n = ++this.serial;
    const all: (() => Promise<unknown>)[] = [
      async () => {
        const id = await this.createContainer(TICKER, 'ticker', { HostConfig: { NetworkMode: this.random() < 0.5 ? 'bridge' : 'none' } });
        await this.call('POST', `/containers/${id}/start`);
      },
      async () => this.call('POST', `/containers/${await this.createContainer(EXITER, 'exiter', { Labels: { 'chaos.kind': 'exiter', 'chaos.exit': '3' } })}/start`),
      async () => this.createContainer(TICKER, 'created'),
      async () => {
        const victim = this.pick(known.map((c) => c.Id));
        if (!victim) return;
        this.removing.add(victim);
        await this.call('DELETE', `/containers/${victim}?force=1`);
      },
      async () => {
        await this.call('DELETE', `/images/${this.registry.host}/chaos/app:latest?force=1`);
        await this.call('POST', `/images/create?fromImage=${this.registry.host}/chaos/app&tag=latest`, undefined, AUTH);
      },
      async () => {
        const context = buildTar([{ name: 'Dockerfile', data: `FROM busybox\nRUN echo ${n} > /built-${n}\n` }]);
        await this.call('POST', `/build?t=chaos-built:${n}&rm=1`, context, { 'Content-Type': 'application/x-tar' });
      },
      async () => {
        const id = this.pick(running);
        if (id) await this.call('POST', `/commit?container=${id}&repo=chaos-commit&tag=${n}`);
      },
      async () => {
        const file = join(this.root, `save-${n}.tar`);
        try {
          const saved = await docker(this.daemon.host, ['save', '-o', file, 'busybox']);
          if (saved.code === 0) await docker(this.daemon.host, ['load', '-q', '-i', file]);
        } finally {
          await rm(file, { force: true });
        }
      },
      async () => {
        await this.call('POST', '/volumes/create', { Name: `chaos-vol-${n}` });
        await this.call('DELETE', `/volumes/chaos-vol-${n}`);
      },
      async () => {
        const r = await this.call('POST', '/networks/create', { Name: `chaos-net-${n}` });
        if (r.status === 201) await this.call('DELETE', `/networks/${(JSON.parse(r.text) as { Id: string }).Id}`);
      },
      async () => {
        const id = this.pick(running);
        if (id) await this.call('PUT', `/containers/${id}/archive?path=/tmp`, buildTar([{ name: `cp-${n}.txt`, data: `copied ${n}` }]), { 'Content-Type': 'application/x-tar' });
      },
      async () => {
        const id = this.pick(running);
        if (id) await this.call('GET', `/containers/${id}/archive?path=/bin`);
      },
      async () => {
        const id = this.pick(running);
        if (!id) return;
        this.userPaused.add(id);
        if ((await this.call('POST', `/containers/${id}/pause`)).status === 204) await this.call('POST', `/containers/${id}/unpause`);
      },
    ];
    return all;
  }

  /** One kill point: operations in parallel, SIGKILL at a random moment, restart, check. */
  async round(): Promise<void> {
    this.killPoint++;
    const known = await this.containers().catch(() => [] as ContainerInspect[]);
    const ops = this.operations(known);
    const chosen = Array.from({ length: 3 + Math.floor(this.random() * 3) }, () => this.pick(ops)!);
    // Keep a few tickers alive across rounds: what must survive the crash.
    if (known.filter((c) => c.State.Running).length < 3) chosen.push(ops[0]!);
    if (known.length > 10) chosen.push(ops[3]!, ops[3]!);
    const delayMs = Math.floor(this.random() * 1200);
    const inFlight = Promise.allSettled(chosen.map((op) => op()));
    await new Promise((r) => setTimeout(r, delayMs));
    await this.crash();
    await inFlight;
    const restarting = Date.now();
    // Restore is part of the start: on a loaded 2-core machine it took up to 15 s (the log says how long each took).
    this.daemon = await startBerthd({ root: this.root, keepRootOnFailure: true, readyTimeoutMs: 60_000 });
    // How long the restart (restore included) took: tells a loaded machine from a restore that hangs.
    this.log.push(`kill point ${this.killPoint}: ${chosen.length} operations, SIGKILL after ${delayMs} ms, restarted in ${Date.now() - restarting} ms`);
    const before = this.violations.length;
    await this.checkAfterRestart();
    // The long form reports as it goes (CHAOS_PROGRESS=1), so a stopped run still says what it found.
    if (this.progress) {
      process.stderr.write(`${this.log[this.log.length - 1]}\n`);
      for (const v of this.violations.slice(before)) process.stderr.write(`  [${v.invariant}] ${v.detail}\n`);
    }
  }

  private async crash(): Promise<void> {
    const child = this.daemon.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  private async checkAfterRestart(): Promise<void> {
    const containers = await this.containers();
    for (const c of containers) {
      const kind = c.Config.Labels?.['chaos.kind'];
      const where = `${kind} ${c.Id.slice(0, 12)} (${c.State.Status})`;
      if (!['created', 'running', 'exited', 'paused'].includes(c.State.Status)) {
        this.violation('state Docker could show', `${where}: status ${c.State.Status}`);
        continue;
      }
      if (this.removing.has(c.Id)) continue;
      // The harness pauses only as a user would; a freeze of berth's own (commit, cp) must not outlive its crash.
      if (c.State.Status === 'paused' && !this.userPaused.has(c.Id)) this.violation('only a user\'s pause stays', `${where}: paused, and no user paused it`);
      if (c.State.Status === 'running') {
        if (!processAlive(c.State.Pid)) this.violation('running ones still run', `${where}: pid ${c.State.Pid} is not alive`);
        if (kind === 'ticker') await this.checkTicks(c, where);
      } else if (c.State.Status === 'created') {
        const conmon = conmonOf(c.Id);
        if (conmon) this.violation('created has no conmon', `${where}: conmon pid ${conmon} is alive for a Created container`);
        const started = await this.call('POST', `/containers/${c.Id}/start`);
        if (started.status !== 204) this.violation('created ones start', `${where}: start answered ${started.status} ${started.text.trim()}`);
      } else if (c.State.Status === 'exited') {
        const expected = c.Config.Labels?.['chaos.exit'];
        if (kind === 'ticker') this.violation('running ones still run', `${where}: a ticker nobody stopped exited with ${c.State.ExitCode}`);
        else if (expected !== undefined && String(c.State.ExitCode) !== expected) this.violation('exited ones keep their exit code', `${where}: exit code ${c.State.ExitCode}, wanted ${expected}`);
      }
    }
    await this.checkStores();
  }

  /** The ticker's log has every line from 0 on, none missing (conmon wrote while berthd was down). */
  private async checkTicks(c: ContainerInspect, where: string): Promise<void> {
    const logs = await this.call('GET', `/containers/${c.Id}/logs?stdout=1`);
    const ticks = demux(logs.body).split('\n').filter(Boolean).map((line) => Number(/^tick (\d+)$/.exec(line)?.[1] ?? NaN));
    const gap = ticks.findIndex((t, i) => t !== i);
    if (ticks.length === 0 || gap !== -1) this.violation('logs keep what they wrote', `${where}: ${ticks.length} lines, first out of order at line ${gap} (${ticks.slice(Math.max(0, gap - 1), gap + 2).join(',')})`);
  }

  /** Every stored blob verifies; no image references a layer that is not there. */
  private async checkStores(): Promise<void> {
    const blobsDir = join(this.daemon.dataRoot, 'content', 'blobs', 'sha256');
    for (const hex of readdirSync(blobsDir)) {
      const actual = createHash('sha256').update(await readFile(join(blobsDir, hex))).digest('hex');
      if (actual !== hex) this.violation('every blob verifies', `blob ${hex} hashes to ${actual}`);
    }
    const images = JSON.parse((await this.call('GET', '/images/json?all=1')).text) as { Id: string; RepoTags?: string[] }[];
    for (const image of images) {
      const inspect = JSON.parse((await this.call('GET', `/images/${image.Id}/json`)).text) as { RootFS?: { Layers?: `sha256:${string}`[] } };
      for (const chain of chainIds(inspect.RootFS?.Layers ?? [])) {
        const dir = join(this.daemon.dataRoot, 'overlay', 'layers', chain.slice(7));
        const record = existsSync(join(dir, 'layer.json')) ? (JSON.parse(readFileSync(join(dir, 'layer.json'), 'utf8')) as { link: string }) : undefined;
        if (!record) this.violation('no image references a missing layer', `image ${image.Id.slice(7, 19)} ${image.RepoTags?.join(',') ?? ''}: layer ${chain} missing`);
        else if (!existsSync(join(this.daemon.dataRoot, 'overlay', 'l', record.link))) this.violation('no image references a missing layer', `image ${image.Id.slice(7, 19)}: layer ${chain} has no short link`);
      }
    }
  }

  /** Removes everything through the API, stops berthd cleanly, and looks for what is left. */
  async finish(): Promise<void> {
    this.killPoint = -1;
    // A clean-up request that hangs is reported with what it was, and the clean-up goes on.
    const removal = async (what: string, method: string, path: string, ok: number[]) => {
      const r = await this.call(method, path).catch((err: Error) => ({ status: 0, text: err.message }));
      if (!ok.includes(r.status)) this.violation('everything removes', `${what}: ${r.status || 'no answer'} ${r.text.trim()}`);
    };
    for (const c of await this.containers()) await removal(`rm -f ${c.Id.slice(0, 12)} (${c.State.Status})`, 'DELETE', `/containers/${c.Id}?force=1&v=1`, [204]);
    for (const image of JSON.parse((await this.call('GET', '/images/json?all=1')).text) as { Id: string }[]) {
      await removal(`rmi ${image.Id}`, 'DELETE', `/images/${image.Id}?force=1`, [200, 404]);
    }
    for (const v of (JSON.parse((await this.call('GET', '/volumes')).text) as { Volumes: { Name: string }[] | null }).Volumes ?? []) {
      await removal(`volume rm ${v.Name}`, 'DELETE', `/volumes/${v.Name}`, [204]);
    }
    for (const n of JSON.parse((await this.call('GET', '/networks')).text) as { Id: string; Name: string }[]) {
      if (!['bridge', 'host', 'none'].includes(n.Name)) await removal(`network rm ${n.Name}`, 'DELETE', `/networks/${n.Id}`, [204]);
    }
    const code = await this.daemon.stop();
    if (code !== 0) this.violation('clean stop', `berthd exited with ${code}`);
    this.checkNothingLeft();
  }

  private checkNothingLeft(): void {
    const { root, dataRoot, execRoot, bridge } = this.daemon;
    const left = (what: string, detail: string) => this.violation(`nothing left: ${what}`, detail);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mountPoint = line.split(' ')[4];
      if (mountPoint?.startsWith(root)) left('mounts', mountPoint);
    }
    for (const id of this.seenIds) {
      if (existsSync(`/run/netns/berth-${id}`)) left('netns', `/run/netns/berth-${id}`);
      if (existsSync(`/run/runc/${id}`)) left('runc state', `/run/runc/${id}`);
    }
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    for (const line of links.split('\n')) {
      const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
      if (name && (name === bridge || [...this.seenIds].some((id) => name.startsWith(`veth${id.slice(0, 7)}`)) || line.includes(`master ${bridge} `))) left('links', line.trim().slice(0, 120));
    }
    if (spawnSync('nft', ['list', 'table', 'ip', `berth_${bridge}`], { stdio: 'ignore' }).status === 0) left('nft table', `ip berth_${bridge}`);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const cmdline = readCmdline(pid);
      if (/(^|\/)conmon\0/.test(cmdline) && cmdline.includes(root)) left('conmon', `pid ${pid}: ${cmdline.replace(/\0/g, ' ').slice(0, 160)}`);
    }
    const cgroupParent = `berth-test-${basename(root)}`;
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', controller, cgroupParent);
      const children = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
      for (const child of children) left('cgroups', join(dir, child.name));
    }
    const emptyDirs = [
      join(dataRoot, 'content', 'ingest'),
      join(dataRoot, 'content', 'blobs', 'sha256'),
      join(dataRoot, 'overlay', 'tmp'),
      join(dataRoot, 'overlay', 'layers'),
      join(dataRoot, 'overlay', 'l'),
      join(dataRoot, 'overlay', 'snapshots'),
      join(dataRoot, 'containers'),
      join(execRoot, 'containers'),
    ];
    for (const dir of emptyDirs) for (const name of existsSync(dir) ? readdirSync(dir) : []) left('files', join(dir, name));
  }

  /**
   * Safety net after the checks (which report what was left): this run's netns, conmons and
   * container cgroups go too, so a failed run leaves the host as it found it.
   */
  async tearDown(): Promise<void> {
    await this.crash().catch(() => undefined);
    if (this.daemon) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        const cmdline = readCmdline(pid);
        if (/(^|\/)conmon\0/.test(cmdline) && cmdline.includes(this.root)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
      await this.daemon.cleanup();
      for (const id of this.seenIds) if (existsSync(`/run/netns/berth-${id}`)) spawnSync('ip', ['netns', 'delete', `berth-${id}`]);
      const cgroupParent = `berth-test-${basename(this.root)}`;
      for (const controller of readdirSync('/sys/fs/cgroup')) {
        const dir = join('/sys/fs/cgroup', controller, cgroupParent);
        if (!existsSync(dir)) continue;
        for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) spawnSync('rmdir', [join(dir, child.name)]);
        spawnSync('rmdir', [dir]);
      }
    }
    await this.registry?.cleanup();
  }
}

function processAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // exited while we looked
  }
}

/** A live conmon process whose command line names container `id`. */
function conmonOf(id: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmdline = readCmdline(pid);
    if (/(^|\/)conmon\0/.test(cmdline) && cmdline.includes(id)) return Number(pid);
  }
  return undefined;
}
