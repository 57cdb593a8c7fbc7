/**
 * `run --rm IMG true` on berth, Docker and Podman, each with the same busybox image, interleaved
 * (A B C A B C ...), every engine on its own root, all with --network none; berth once more with
 * its default bridge network, and the raw floor (overlay + runc run) after them in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH } from '../test/helpers/berthd.js';
import { startBenchBerthd } from './bench-berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { summarize, time } from './stats.js';
import { measureFloor } from './floor.js';
import { dockerdAvailable, podmanAvailable, podmanArgs, removePodmanRoot, startDockerd, PODMAN_ULIMITS } from './peers.js';

const run = promisify(execFile);


export async function benchRunRm(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-run-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  const berthd = await startBenchBerthd(work, { bridge: 'bbench1', bip: '10.252.0.1/16' });
  const socket = berthd.socket;
  const berth = (...args: string[]) => run(process.execPath, [BERTH, '-H', `unix://${socket}`, ...args]);
  const docker = dockerdAvailable ? await startDockerd(join(work, 'docker')) : undefined;
  const podmanRoot = join(work, 'podman');
  try {
    await berth('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
    if (docker) await run('docker', ['-H', docker.host, 'import', '-c', 'CMD ["sh"]', rootfs, 'busybox']);
    if (podmanAvailable) await run('podman', [...podmanArgs(podmanRoot), 'import', '-c', 'CMD ["sh"]', rootfs, 'busybox']);
    const samples = { berth: [] as number[], berthdViaDocker: [] as number[], berthdBridge: [] as number[], docker: [] as number[], podman: [] as number[] };
    // one warm-up each
    await berth('run', '--rm', 'busybox', 'true');
    if (docker) await run('docker', ['-H', docker.host, 'run', '--rm', '--network', 'none', 'busybox', 'true']);
    if (podmanAvailable) await run('podman', [...podmanArgs(podmanRoot), 'run', '--rm', '--network', 'none', ...PODMAN_ULIMITS, 'busybox', 'true']);
    for (let r = 0; r < runs; r++) {
      samples.berth.push(await time(() => berth('run', '--rm', '--network', 'none', 'busybox', 'true')));
      // The same daemon through the docker CLI: separates berthd's time from the Node CLI's start.
      samples.berthdViaDocker.push(await time(() => run('docker', ['-H', `unix://${socket}`, 'run', '--rm', '--network', 'none', 'busybox', 'true'])));
      samples.berthdBridge.push(await time(() => run('docker', ['-H', `unix://${socket}`, 'run', '--rm', 'busybox', 'true'])));
      if (docker) samples.docker.push(await time(() => run('docker', ['-H', docker.host, 'run', '--rm', '--network', 'none', 'busybox', 'true'])));
      if (podmanAvailable) samples.podman.push(await time(() => run('podman', [...podmanArgs(podmanRoot), 'run', '--rm', '--network', 'none', ...PODMAN_ULIMITS, 'busybox', 'true'])));
    }
    // The raw floor in the same run, after the engines (so it does not warm their caches).
    const floor = await measureFloor(work, rootfs, runs).catch(() => [] as number[]);
    await mkdir(join(work, 'bridge-floor'));
    const bridgeFloor = await measureFloor(join(work, 'bridge-floor'), rootfs, runs, 'runc', { name: 'bbfloor0', prefix: '10.246.0' }).catch(() => [] as number[]);
    const b = summarize(samples.berth);
    const line = (name: string, xs: number[]) => {
      if (!xs.length) return `${name.padEnd(20)} not measured`;
      const s = summarize(xs);
      return `${name.padEnd(20)} median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})${name === 'berth' ? '' : `   berth at ${(b.median / s.median).toFixed(2)}`}`;
    };
    return [
      `run --rm busybox true, ${runs} runs each, interleaved; CLI start to exit`,
      line('berth', samples.berth),
      `${line('docker CLI -> berthd', samples.berthdViaDocker)}`,
      `${line('  same, bridge network', samples.berthdBridge)}`,
      line('docker', samples.docker),
      line('podman', samples.podman),
      floor.length ? `${line('floor (overlay+runc run)', floor)}   docker CLI -> berthd at ${(summarize(samples.berthdViaDocker).median / summarize(floor).median).toFixed(2)}x the floor (target 1.6x)` : 'floor: not measured (runc spec failed)',
      bridgeFloor.length ? `${line('  + netns, veth, bridge', bridgeFloor)}   bridge network: docker CLI -> berthd at ${(summarize(samples.berthdBridge).median / summarize(bridgeFloor).median).toFixed(2)}x this floor` : 'bridge floor: not measured',
    ].join('\n');
  } finally {
    await berthd.stop();
    await docker?.stop();
    if (podmanAvailable) await removePodmanRoot(podmanRoot);
    await rm(work, { recursive: true, force: true });
  }
}
