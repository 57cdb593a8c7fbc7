/**
 * Build of a small Dockerfile (FROM busybox, RUN, COPY of a 1 MB file, ENV, CMD), cold
 * (--no-cache) and fully cached, on berth (docker CLI as client, classic builder protocol), Docker's
 * classic builder and Podman's build, interleaved, every engine on its own root; RUN steps use
 * --network none on every engine (dockerd runs without a bridge here).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBenchBerthd } from './bench-berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { summarize, time } from './stats.js';
import { dockerdAvailable, podmanAvailable, podmanArgs, removePodmanRoot, startDockerd } from './peers.js';

const run = promisify(execFile);

const DOCKERFILE = 'FROM busybox\nRUN echo built > /built.txt\nCOPY data.bin /data.bin\nENV MODE=bench\nCMD ["cat", "/built.txt"]\n';

export async function benchBuild(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-build-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  const context = join(work, 'context');
  await mkdir(context);
  await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(context, 'data.bin'), randomBytes(1024 * 1024));
  const berthd = await startBenchBerthd(work, { bridge: 'bbench2', bip: '10.253.0.1/16' });
  const berthHost = berthd.host;
  const docker = dockerdAvailable ? await startDockerd(join(work, 'docker')).catch(() => undefined) : undefined;
  const podmanRoot = join(work, 'podman');
  const classic = { ...process.env, DOCKER_BUILDKIT: '0' };
  const dockerBuild = (host: string, ...args: string[]) => run('docker', ['-H', host, 'build', '--network', 'none', '-t', 'bench-build', ...args, context], { env: classic, maxBuffer: 1 << 26 });
  const podmanBuild = (...args: string[]) => run('podman', [...podmanArgs(podmanRoot), 'build', '--network', 'none', '--layers', '--pull=never', '-t', 'bench-build', ...args, context], { maxBuffer: 1 << 26 });
  try {
    await run('docker', ['-H', berthHost, 'import', '-c', 'CMD ["sh"]', rootfs, 'busybox']);
    if (docker) await run('docker', ['-H', docker.host, 'import', '-c', 'CMD ["sh"]', rootfs, 'busybox']);
    if (podmanAvailable) await run('podman', [...podmanArgs(podmanRoot), 'import', '-c', 'CMD ["sh"]', rootfs, 'busybox']);
    const engines: { name: string; build: (...args: string[]) => Promise<unknown> }[] = [
      { name: 'berth', build: (...args) => dockerBuild(berthHost, ...args) },
      ...(docker ? [{ name: 'docker (classic)', build: (...args: string[]) => dockerBuild(docker.host, ...args) }] : []),
      ...(podmanAvailable ? [{ name: 'podman build', build: podmanBuild }] : []),
    ];
    const samples = new Map(engines.map((e) => [e.name, { cold: [] as number[], cached: [] as number[] }]));
    for (const engine of engines) await engine.build('--no-cache'); // warm-up
    for (let r = 0; r < runs; r++) {
      for (const engine of engines) {
        samples.get(engine.name)!.cold.push(await time(() => engine.build('--no-cache')));
        samples.get(engine.name)!.cached.push(await time(() => engine.build()));
      }
    }
    const berth = samples.get('berth')!;
    const lines = [`build of FROM busybox / RUN / COPY 1 MB / ENV / CMD, ${runs} runs each, interleaved; docker CLI (or podman) start to exit`];
    for (const [name, s] of samples) {
      const cold = summarize(s.cold);
      const cached = summarize(s.cached);
      const ratio = name === 'berth' ? '' : `   berth at ${(summarize(berth.cold).median / cold.median).toFixed(2)} cold, ${(summarize(berth.cached).median / cached.median).toFixed(2)} cached`;
      lines.push(`${name.padEnd(18)} cold median ${cold.median.toFixed(0)} ms (min ${cold.min.toFixed(0)}, max ${cold.max.toFixed(0)})   cached median ${cached.median.toFixed(0)} ms (min ${cached.min.toFixed(0)}, max ${cached.max.toFixed(0)})${ratio}`);
    }
    lines.push('targets: berth cold under 650 ms, cached under 100 ms');
    return lines.join('\n');
  } finally {
    await berthd.stop();
    await docker?.stop();
    if (podmanAvailable) await removePodmanRoot(podmanRoot);
    await rm(work, { recursive: true, force: true });
  }
}
