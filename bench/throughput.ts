/**
 * Requests per second through a published port on 127.0.0.1 and directly at the container's
 * address, small and 10 MB responses (wrk, 2 threads, 16 connections), berth beside Docker.
 * Docker gets a bridge this benchmark makes (and removes) and runs with --iptables=false, so its
 * loopback path is docker-proxy, as on a default install, and nothing touches the host's firewall.
 * Podman is not measured: its DNAT path (netavark) would add chains to the host's iptables.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBenchBerthd } from './bench-berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { dockerdAvailable, startDockerd, type DockerPeer } from './peers.js';
import { summarize, time } from './stats.js';

const run = promisify(execFile);
const DOCKER_BRIDGE = 'bbdock0';
const WEB = ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && head -c 10485760 /dev/zero > /www/big && exec httpd -f -p 80 -h /www'];

async function requestsPerSecond(url: string, seconds: number): Promise<number> {
  const text = (await run('wrk', ['-t2', '-c16', `-d${seconds}s`, url], { maxBuffer: 1 << 24 })).stdout;
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
}

async function waitFor(url: string, pollMs = 50): Promise<void> {
  for (let i = 0; i < 10_000 / pollMs; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`${url} never answered`);
}

async function measure(name: string, cli: (...args: string[]) => Promise<{ stdout: string }>, port: number, seconds: number): Promise<string> {
  // From `run -d -p` to the first HTTP 200 through the published port.
  const firstOk = await time(async () => {
    await cli('run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', ...WEB);
    await waitFor(`http://127.0.0.1:${port}/`, 5);
  });
  try {
    const address = (await cli('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'web')).stdout.trim();
    await waitFor(`http://${address}/`);
    // Alternating rounds, median of each: the two paths see the same machine noise.
    const rounds = { published: [] as number[], direct: [] as number[], publishedBig: [] as number[], directBig: [] as number[] };
    for (let round = 0; round < 3; round++) {
      rounds.published.push(await requestsPerSecond(`http://127.0.0.1:${port}/`, seconds));
      rounds.direct.push(await requestsPerSecond(`http://${address}/`, seconds));
      rounds.publishedBig.push(await requestsPerSecond(`http://127.0.0.1:${port}/big`, seconds));
      rounds.directBig.push(await requestsPerSecond(`http://${address}/big`, seconds));
    }
    const [published, direct, publishedBig, directBig] = [rounds.published, rounds.direct, rounds.publishedBig, rounds.directBig].map((xs) => summarize(xs).median) as [number, number, number, number];
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
    return `${name.padEnd(8)} run -d -p to the first HTTP 200: ${firstOk.toFixed(0)} ms;   small: published 127.0.0.1 ${published.toFixed(0)} req/s, direct ${direct.toFixed(0)} req/s = ${pct(published, direct)};   10 MB: published ${publishedBig.toFixed(1)} req/s, direct ${directBig.toFixed(1)} req/s = ${pct(publishedBig, directBig)}`;
  } finally {
    await cli('rm', '-f', 'web').catch(() => undefined);
  }
}

export async function benchThroughput(): Promise<string> {
  if (!(await run('wrk', ['--version']).then(() => true, (err: { stdout?: string }) => Boolean(err.stdout?.includes('wrk'))))) return 'not measured: wrk is not installed (bench/setup-peers docker)';
  const seconds = 3;
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-tput-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  const berthd = await startBenchBerthd(work, { bridge: 'bbench4', bip: '10.248.0.1/24' });
  const socket = berthd.socket;
  let docker: DockerPeer | undefined;
  let bridgeMade = false;
  const out = [`wrk -t2 -c16 -d${seconds}s against busybox httpd in a container, 3 alternating rounds, medians; published = -p 127.0.0.1:PORT:80`];
  try {
    const berth = (...args: string[]) => run('docker', ['-H', `unix://${socket}`, ...args]);
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
    await berthd.stop();
    await rm(work, { recursive: true, force: true });
  }
}
