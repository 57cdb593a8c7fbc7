/**
 * Cold pull of the generated 200 MB, 5-layer, 20,000-file image from a local berth-registry:
 * berth (a fresh berthd data root every run) beside the floors: `skopeo copy` to a directory
 * (transfer) and GNU `tar -xzf` of the same layers (unpack).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD } from '../test/helpers/berthd.js';
import { BERTH_REGISTRY } from '../test/helpers/registry.js';
import { makeLayerFixture } from './layer-fixture.js';
import { writeLayoutFromLayers } from './oci-layout-fixture.js';
import { summarize } from './stats.js';
import { dockerdAvailable, podmanAvailable, podmanArgs, removePodmanRoot, startDockerd } from './peers.js';

const run = promisify(execFile);

function post(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { Host: 'bench', 'X-Registry-Auth': 'e30=' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 && !body.includes('errorDetail') ? resolve(body) : reject(new Error(body))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', headers: { Host: 'bench' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function benchPull(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-pull-'));
  const registryPort = 20000 + Math.floor(Math.random() * 20000);
  const registry = spawn(process.execPath, [BERTH_REGISTRY, 'serve', '--addr', `127.0.0.1:${registryPort}`, '--root', join(work, 'registry'), '--log-level', 'warn'], { stdio: 'ignore' });
  try {
    const fixture = await makeLayerFixture(join(work, 'layers'));
    await writeLayoutFromLayers(join(work, 'layout'), fixture.layers, 'bench');
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${registryPort}/v2/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    await run('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:bench`, `docker://127.0.0.1:${registryPort}/bench/image:v1`]);
    const berthMs: number[] = [];
    const transferMs: number[] = [];
    const unpackMs: number[] = [];
    const dockerMs: number[] = [];
    const podmanMs: number[] = [];
    const image = `127.0.0.1:${registryPort}/bench/image:v1`;
    for (let r = 0; r < runs; r++) {
      // berth: a new daemon and data root each run, so the pull is cold
      const root = join(work, `berth-${r}`);
      await mkdir(root);
      await writeFile(join(root, 'daemon.json'), '{}');
      const socket = join(root, 's.sock');
      const daemon = spawn(process.execPath, [BERTHD, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '-H', `unix://${socket}`, '--config-file', join(root, 'daemon.json')], { stdio: 'ignore' });
      try {
        while (!(await ping(socket))) await new Promise((res) => setTimeout(res, 10));
        const started = process.hrtime.bigint();
        await post(socket, `/v1.50/images/create?fromImage=${encodeURIComponent(`127.0.0.1:${registryPort}/bench/image`)}&tag=v1`);
        berthMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      } finally {
        daemon.kill('SIGTERM');
        await new Promise((res) => (daemon.exitCode !== null ? res(undefined) : daemon.once('exit', res)));
      }
      let started = process.hrtime.bigint();
      await run('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://127.0.0.1:${registryPort}/bench/image:v1`, `dir:${join(work, `transfer-${r}`)}`]);
      transferMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      const target = join(work, `unpack-${r}`);
      started = process.hrtime.bigint();
      await run('sh', ['-c', fixture.layers.map((layer, i) => `mkdir -p ${target}/${i} && tar -xzf ${layer} -C ${target}/${i}`).join(' && ')]);
      unpackMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (dockerdAvailable) {
        const peer = await startDockerd(join(work, `docker-${r}`));
        try {
          started = process.hrtime.bigint();
          await run('docker', ['-H', peer.host, 'pull', '-q', image]);
          dockerMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        } finally {
          await peer.stop();
        }
      }
      if (podmanAvailable) {
        const root = join(work, `podman-${r}`);
        try {
          started = process.hrtime.bigint();
          await run('podman', [...podmanArgs(root), 'pull', '-q', '--tls-verify=false', image]);
          podmanMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        } finally {
          await removePodmanRoot(root);
        }
      }
    }
    const b = summarize(berthMs).median;
    const t = summarize(transferMs).median;
    const u = summarize(unpackMs).median;
    const floor = Math.max(t, u);
    return [
      `image: ${fixture.layers.length} gzip layers, ${fixture.files} files, ${(fixture.bytes / 1e6).toFixed(0)} MB of content, from berth-registry on 127.0.0.1; ${runs} runs`,
      `berth pull (cold)        median ${b.toFixed(0)} ms (min ${summarize(berthMs).min.toFixed(0)})`,
      `transfer floor (skopeo)  median ${t.toFixed(0)} ms`,
      `unpack floor (GNU tar)   median ${u.toFixed(0)} ms`,
      `berth / larger floor     ${(b / floor).toFixed(2)}  (target: at most 1.30) ${b / floor <= 1.3 ? 'within' : 'OVER'}`,
      dockerMs.length ? `Docker (dockerd ${'20.10'}) median ${summarize(dockerMs).median.toFixed(0)} ms (berth at ${(b / summarize(dockerMs).median).toFixed(2)})` : 'Docker: not measured (bench/setup-peers docker installs it)',
      podmanMs.length ? `Podman                    median ${summarize(podmanMs).median.toFixed(0)} ms (berth at ${(b / summarize(podmanMs).median).toFixed(2)})` : 'Podman: not measured (bench/setup-peers podman installs it)',
    ].join('\n');
  } finally {
    registry.kill('SIGTERM');
    await new Promise((res) => (registry.exitCode !== null ? res(undefined) : registry.once('exit', res)));
    await rm(work, { recursive: true, force: true });
  }
}
