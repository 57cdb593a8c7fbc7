/**
 * berth-registry beside distribution (Debian's docker-registry 2.8): `skopeo copy` push and pull
 * of the generated 200 MB, 5-layer image, and 8 concurrent pulls; interleaved runs, fresh
 * storage and destination directories every run.
 */
import { freeLoopbackPort } from '../test/helpers/ports.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH_REGISTRY } from '../test/helpers/registry.js';
import { makeLayerFixture } from './layer-fixture.js';
import { writeLayoutFromLayers } from './oci-layout-fixture.js';
import { summarize } from './stats.js';

const run = promisify(execFile);


async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`registry on ${port} did not answer`);
}

interface Peer {
  name: string;
  start(root: string, port: number): Promise<ChildProcess>;
}

const PEERS: Peer[] = [
  {
    name: 'berth-registry',
    start: async (root, port) => spawn(process.execPath, [BERTH_REGISTRY, 'serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--log-level', 'warn'], { stdio: 'ignore' }),
  },
  {
    name: 'distribution 2.8',
    start: async (root, port) => {
      const config = join(root, '..', `distribution-${port}.yml`);
      await writeFile(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${root}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
      return spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    },
  },
];

export async function benchRegistry(runs: number): Promise<string> {
  if (!existsSync('/usr/bin/docker-registry')) return 'not measured: Debian\'s docker-registry is missing (bench/setup-peers registry installs it)';
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-registry-'));
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 16 * 1024 * 1024 });
  const timed = async (work: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  try {
    const fixture = await makeLayerFixture(join(work, 'layers'));
    const layout = join(work, 'layout');
    await writeLayoutFromLayers(layout, fixture.layers, 'bench');
    const results = new Map(PEERS.map((p) => [p.name, { push: [] as number[], pull: [] as number[], pull8: [] as number[] }]));
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? PEERS : [...PEERS].reverse();
      for (const peer of order) {
        const port = await freeLoopbackPort();
        const root = join(work, `${peer.name.replace(/\W/g, '')}-${r}`);
        await mkdir(root, { recursive: true });
        const child = await peer.start(root, port);
        try {
          await waitForPort(port);
          const target = `docker://127.0.0.1:${port}/bench/image:v1`;
          const result = results.get(peer.name)!;
          result.push.push(await timed(() => skopeo('copy', '-q', '--dest-tls-verify=false', `oci:${layout}:bench`, target)));
          result.pull.push(await timed(() => skopeo('copy', '-q', '--src-tls-verify=false', target, `dir:${join(work, `pull-${port}`)}`)));
          result.pull8.push(await timed(() => Promise.all(Array.from({ length: 8 }, (_, i) => skopeo('copy', '-q', '--src-tls-verify=false', target, `dir:${join(work, `pull8-${port}-${i}`)}`)))));
        } finally {
          child.kill('SIGTERM');
          await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
        }
      }
    }
    const lines = [`image: ${fixture.layers.length} gzip layers, ${fixture.files} files, ${(fixture.bytes / 1e6).toFixed(0)} MB of content; skopeo copy over 127.0.0.1; ${runs} runs`];
    const base = results.get(PEERS[1]!.name)!;
    for (const [name, result] of results) {
      const cell = (samples: number[], baseline: number[]) => {
        const s = summarize(samples);
        return `${s.median.toFixed(0)} ms (x${(s.median / summarize(baseline).median).toFixed(2)})`;
      };
      lines.push(`${name.padEnd(18)} push ${cell(result.push, base.push)}   pull ${cell(result.pull, base.pull)}   8 concurrent pulls ${cell(result.pull8, base.pull8)}`);
    }
    return lines.join('\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
