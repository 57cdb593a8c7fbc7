/**
 * Requests per second through a published port on 127.0.0.1 and directly at the container's
 * address, small and 10 MB responses (wrk, 2 threads, 16 connections), berth beside Docker.
 * Docker gets a bridge this benchmark makes (and removes) and runs with --iptables=false, so its
 * loopback path is docker-proxy, as on a default install, and nothing touches the host's firewall.
 * Podman is not measured: its DNAT path (netavark) would add chains to the host's iptables.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD } from '../test/helpers/berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { dockerdAvailable, startDockerd, type DockerPeer } from './peers.js';

const run = promisify(execFile);
const DOCKER_BRIDGE = 'bbdock0';
const WEB = ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && head -c 10485760 /dev/zero > /www/big && exec httpd -f -p 80 -h /www'];

async function requestsPerSecond(url: string, seconds: number): Promise<number> {
  const text = (await run('wrk', ['-t2', '-c16', `-d${seconds}s`, url], { maxBuffer: 1 << 24 })).stdout;
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

async function measure(name: string, cli: (...args: string[]) => Promise<{ stdout: string }>, port: number, seconds: number): Promise<string> {
  await cli('run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', ...WEB);
  try {
    const address = (await cli('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'web')).stdout.trim();
    await waitFor(`http://127.0.0.1:${port}/`);
    await waitFor(`http://${address}/`);
    const published = await requestsPerSecond(`http://127.0.0.1:${port}/`, seconds);
    const direct = await requestsPerSecond(`http://${address}/`, seconds);
    const publishedBig = await requestsPerSecond(`http://127.0.0.1:${port}/big`, seconds);
    const directBig = await requestsPerSecond(`http://${address}/big`, seconds);
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
    return `${name.padEnd(8)} small: published 127.0.0.1 ${published.toFixed(0)} req/s, direct ${direct.toFixed(0)} req/s = ${pct(published, direct)};   10 MB: published ${publishedBig.toFixed(1)} req/s, direct ${directBig.toFixed(1)} req/s = ${pct(publishedBig, directBig)}`;
  } finally {
    await cli('rm', '-f', 'web').catch(() => undefined);
  }
}

export async function benchThroughput(runs: number): Promise<string> {
  if (!(await run('wrk', ['--version']).then(() => true, (err: { stdout?: string }) => Boolean(err.stdout?.includes('wrk'))))) return 'not measured: wrk is not installed (bench/setup-peers docker)';
  const seconds = Math.max(3, Math.min(runs, 5));
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-tput-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  await writeFile(join(work, 'daemon.json'), '{}');
  const socket = join(work, 'berth.sock');
  const berthd = spawn(process.execPath, [BERTHD, '--data-root', join(work, 'berth'), '--exec-root', join(work, 'berth-run'), '-H', `unix://${socket}`, '--config-file', join(work, 'daemon.json'), '--cgroup-parent', 'berth-bench', '--bridge', 'bbench4', '--bip', '10.248.0.1/24'], { stdio: 'ignore' });
  let docker: DockerPeer | undefined;
  let bridgeMade = false;
  const out = [`wrk -t2 -c16 -d${seconds}s against busybox httpd in a container; published = -p 127.0.0.1:PORT:80`];
  try {
    const berth = (...args: string[]) => run('docker', ['-H', `unix://${socket}`, ...args]);
    for (let i = 0; i < 100; i++) if (await berth('version').then(() => true, () => false)) break; else await new Promise((r) => setTimeout(r, 50));
    await berth('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
    out.push(await measure('berth', berth, 18500 + Math.floor(Math.random() * 500), seconds));
    if (dockerdAvailable) {
      await run('ip', ['link', 'add', DOCKER_BRIDGE, 'type', 'bridge']);
      bridgeMade = true;
      await run('ip', ['addr', 'add', '10.247.0.1/24', 'dev', DOCKER_BRIDGE]);
      await run('ip', ['link', 'set', DOCKER_BRIDGE, 'up']);
      docker = await startDockerd(join(work, 'docker'), DOCKER_BRIDGE);
      const host = docker.host;
      const cli = (...args: string[]) => run('docker', ['-H', host, ...args]);
      await cli('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
      out.push(await measure('docker', cli, 19000 + Math.floor(Math.random() * 500), seconds));
    } else {
      out.push('docker   not measured: dockerd is not installed (bench/setup-peers docker)');
    }
    out.push('podman   not measured: its published-port path (netavark) adds chains to the host\'s iptables');
    out.push('target: published at least 95% of direct');
    return out.join('\n');
  } finally {
    await docker?.stop();
    if (bridgeMade) await run('ip', ['link', 'del', DOCKER_BRIDGE]).catch(() => undefined);
    berthd.kill('SIGTERM');
    await new Promise((r) => (berthd.exitCode !== null ? r(undefined) : berthd.once('exit', r)));
    for (const controller of ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd', 'unified']) {
      await run('rmdir', [join('/sys/fs/cgroup', controller, 'berth-bench')]).catch(() => undefined);
    }
    await rm(work, { recursive: true, force: true });
  }
}
