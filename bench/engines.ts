/**
 * Container operations side by side on berth (the docker CLI as its client), Docker 20.10 and
 * Podman 4.3, every engine on its own root, interleaved (A B C A B C ...), all with --network none
 * (dockerd runs without a bridge here, so nothing touches the host's firewall): create, start,
 * stop, rm -f, run -d, exec true, 50 containers started and removed in parallel, logs of
 * 1,000,000 lines, and memory (RSS and PSS of every engine process, monitors and shims included)
 * idle and with 50 running containers; daemon start until /_ping answers for berthd and dockerd.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD } from '../test/helpers/berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { summarize, time } from './stats.js';
import { startBenchBerthd } from './bench-berthd.js';
import { pingOnce } from './daemon-start.js';
import { dockerdAvailable, podmanAvailable, podmanArgs, removePodmanRoot, startDockerd, type DockerPeer, PODMAN_ULIMITS } from './peers.js';

const run = promisify(execFile);

interface Engine {
  name: string;
  cli: (...args: string[]) => Promise<{ stdout: string }>;
  /** Extra flags for run/create (podman's rlimits on this machine). */
  runFlags: string[];
}

/** RSS and PSS (KiB) summed over every process whose command line mentions `marker`. */
async function memoryOf(marker: string): Promise<{ rss: number; pss: number; processes: number }> {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(marker) || cmdline.startsWith('docker\0') || cmdline.startsWith('podman\0')) continue;
    const rollup = await readFile(`/proc/${entry}/smaps_rollup`, 'utf8').catch(() => '');
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    processes++;
  }
  return { rss, pss, processes };
}

/** Spawn to the first 200 from /_ping, on a fresh root each time; then stopped and removed. */
async function timeStart(root: string, command: string, args: (socket: string) => string[]): Promise<number> {
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'daemon.json'), '{}');
  const socket = join(root, 'd.sock');
  const started = process.hrtime.bigint();
  const child = spawn(command, args(socket), { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    for (;;) {
      if (await pingOnce(socket)) return Number(process.hrtime.bigint() - started) / 1e6;
      if (child.exitCode !== null) throw new Error(`${command} exited before answering`);
      if (Number(process.hrtime.bigint() - started) > 30e9) throw new Error(`${command}: no answer within 30 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(root, { recursive: true, force: true });
  }
}

const berthdStart = (work: string, i: number) =>
  timeStart(join(work, `bstart${i}`), process.execPath, (socket) => [BERTHD, '--data-root', join(work, `bstart${i}`, 'data'), '--exec-root', join(work, `bstart${i}`, 'run'), '-H', `unix://${socket}`, '--config-file', join(work, `bstart${i}`, 'daemon.json')]);

const dockerdStart = (work: string, i: number) =>
  timeStart(join(work, `dstart${i}`), 'dockerd', (socket) => ['--data-root', join(work, `dstart${i}`, 'data'), '--exec-root', join(work, `dstart${i}`, 'exec'), '-H', `unix://${socket}`, '--pidfile', join(work, `dstart${i}`, 'pid'), '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false']);

export async function benchEngines(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-eng-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  const berthd = await startBenchBerthd(work, { bridge: 'bbench3', bip: '10.254.0.1/16' });
  let docker: DockerPeer | undefined;
  const podmanRoot = join(work, 'podman');
  const engines: Engine[] = [];
  const out: string[] = [];
  try {
    const berthCli = (...args: string[]) => run('docker', ['-H', berthd.host, ...args], { maxBuffer: 1 << 30 });
    engines.push({ name: 'berth', cli: berthCli, runFlags: [] });
    if (dockerdAvailable) {
      docker = await startDockerd(join(work, 'docker')).catch(() => undefined);
      if (docker) {
        const host = docker.host;
        engines.push({ name: 'docker', cli: (...args) => run('docker', ['-H', host, ...args], { maxBuffer: 1 << 30 }), runFlags: [] });
      }
    }
    if (podmanAvailable) engines.push({ name: 'podman', cli: (...args) => run('podman', [...podmanArgs(podmanRoot), ...args], { maxBuffer: 1 << 30 }), runFlags: PODMAN_ULIMITS });
    for (const e of engines) await e.cli('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
    const markers: Record<string, string> = { berth: work + '/berth', docker: join(work, 'docker'), podman: podmanRoot };
    // Warm-up, then idle memory.
    for (const e of engines) await e.cli('run', '--rm', '--network', 'none', ...e.runFlags, 'busybox', 'true');
    await new Promise((r) => setTimeout(r, 1000));
    const idle = new Map<string, { rss: number; pss: number; processes: number }>();
    for (const e of engines) idle.set(e.name, await memoryOf(markers[e.name]!));

    const ops = ['create', 'start', 'exec true', 'stop', 'rm -f', 'run -d'] as const;
    const samples = new Map<string, Map<string, number[]>>(engines.map((e) => [e.name, new Map(ops.map((o) => [o, [] as number[]]))]));
    for (let r = 0; r < runs; r++) {
      for (const e of engines) {
        const s = samples.get(e.name)!;
        const name = `op${r}`;
        s.get('create')!.push(await time(() => e.cli('create', '--name', name, '--network', 'none', ...e.runFlags, 'busybox', 'sleep', '600')));
        s.get('start')!.push(await time(() => e.cli('start', name)));
        s.get('exec true')!.push(await time(() => e.cli('exec', name, 'true')));
        s.get('stop')!.push(await time(() => e.cli('stop', '-t', '0', name)));
        s.get('rm -f')!.push(await time(() => e.cli('rm', '-f', name)));
        s.get('run -d')!.push(await time(() => e.cli('run', '-d', '--name', name, '--network', 'none', ...e.runFlags, 'busybox', 'sleep', '600')));
        await e.cli('rm', '-f', name);
      }
    }
    const header = `operation     ${engines.map((e) => e.name.padEnd(26)).join('')}`;
    out.push(`container operations, ${runs} runs each, interleaved; medians (min-max) in ms, CLI start to exit`, header);
    for (const op of ops) {
      const cells = engines.map((e) => {
        const s = summarize(samples.get(e.name)!.get(op)!);
        return `${s.median.toFixed(0)} (${s.min.toFixed(0)}-${s.max.toFixed(0)})`.padEnd(26);
      });
      const ratios = engines.slice(1).map((e) => `${e.name} ${(summarize(samples.get('berth')!.get(op)!).median / summarize(samples.get(e.name)!.get(op)!).median).toFixed(2)}`).join(', ');
      out.push(`${op.padEnd(14)}${cells.join('')}${ratios ? `berth at: ${ratios}` : ''}`);
    }

    // 50 containers started in parallel, memory with them running, then removed in parallel.
    for (const e of engines) {
      const names = Array.from({ length: 50 }, (_, i) => `p${i}`);
      const up = await time(() => Promise.all(names.map((n) => e.cli('run', '-d', '--name', n, '--network', 'none', ...e.runFlags, 'busybox', 'sleep', '600'))));
      await new Promise((r) => setTimeout(r, 1000));
      const busy = await memoryOf(markers[e.name]!);
      const down = await time(() => Promise.all(names.map((n) => e.cli('rm', '-f', n))));
      const quiet = idle.get(e.name)!;
      out.push(`${e.name.padEnd(8)} 50 parallel run -d ${(up / 1000).toFixed(2)} s, rm -f ${(down / 1000).toFixed(2)} s; memory idle RSS ${(quiet.rss / 1024).toFixed(0)} MB / PSS ${(quiet.pss / 1024).toFixed(0)} MB (${quiet.processes} processes), with 50 running RSS ${(busy.rss / 1024).toFixed(0)} MB / PSS ${(busy.pss / 1024).toFixed(0)} MB (${busy.processes} processes), ${((busy.pss - quiet.pss) / 50 / 1024).toFixed(1)} MB PSS per container`);
    }

    // Logs of 1,000,000 lines.
    for (const e of engines) {
      await e.cli('run', '--name', 'chatty', '--network', 'none', ...e.runFlags, 'busybox', 'sh', '-c', 'seq 1 1000000');
      const xs: number[] = [];
      for (let i = 0; i < Math.min(runs, 3); i++) {
        xs.push(await time(async () => {
          const r = await e.cli('logs', 'chatty');
          if (!r.stdout.endsWith('1000000\n')) throw new Error(`${e.name}: logs ended early`);
        }));
      }
      await e.cli('rm', '-f', 'chatty');
      const s = summarize(xs);
      out.push(`${e.name.padEnd(8)} logs of 1,000,000 lines: median ${(s.median / 1000).toFixed(2)} s (min ${(s.min / 1000).toFixed(2)}, max ${(s.max / 1000).toFixed(2)})`);
    }

    // Daemon start until /_ping answers (podman has no daemon).
    const starts = { berth: [] as number[], docker: [] as number[] };
    for (let i = 0; i < Math.min(runs, 5); i++) {
      starts.berth.push(await berthdStart(work, i));
      if (docker) starts.docker.push(await dockerdStart(work, i).catch(() => NaN));
    }
    const b = summarize(starts.berth);
    const d = starts.docker.length ? summarize(starts.docker.filter((x) => !Number.isNaN(x))) : undefined;
    out.push(`daemon start until /_ping: berthd median ${b.median.toFixed(0)} ms (min ${b.min.toFixed(0)}, max ${b.max.toFixed(0)})${d ? `, dockerd ${d.median.toFixed(0)} ms (min ${d.min.toFixed(0)}, max ${d.max.toFixed(0)}); berth at ${(b.median / d.median).toFixed(2)}` : ''}; podman has no daemon`);
    return out.join('\n');
  } finally {
    for (const e of engines) {
      const left = await e.cli('ps', '-aq').then((r) => r.stdout.trim().split('\n').filter(Boolean), () => [] as string[]);
      if (left.length) await e.cli('rm', '-f', ...left).catch(() => undefined);
    }
    await berthd.stop();
    await docker?.stop();
    if (podmanAvailable) await removePodmanRoot(podmanRoot);
    await rm(work, { recursive: true, force: true });
  }
}
