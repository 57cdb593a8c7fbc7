/**
 * The raw floor of `run --rm true`: what any engine must do at least, timed with nothing else —
 * mount an overlay (fresh upper and work directories) on an unpacked busybox, `runc run` a
 * config from `runc spec` (new namespaces, network namespace included) running `true`, unmount.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function measureFloor(work: string, rootfsTar: string, runs: number, runtime = 'runc'): Promise<number[]> {
  const lower = join(work, 'floor-lower');
  await mkdir(lower, { recursive: true });
  await run('tar', ['-xf', rootfsTar, '-C', lower]);
  const bundle = join(work, 'floor-bundle');
  await mkdir(bundle, { recursive: true });
  await run(runtime, ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean; rlimits?: unknown }; root: { readonly: boolean } };
  spec.process.args = ['true'];
  spec.process.terminal = false;
  delete spec.process.rlimits; // no CAP_SYS_RESOURCE here: inherit, as berth does
  spec.root.readonly = false;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  const samples: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const upper = join(work, `floor-upper-${i}`);
    const workdir = join(work, `floor-work-${i}`);
    const rootfs = join(bundle, 'rootfs');
    const started = process.hrtime.bigint();
    await mkdir(upper);
    await mkdir(workdir);
    await mkdir(rootfs, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${workdir}`, rootfs]);
    try {
      await run(runtime, ['run', '--bundle', bundle, `berth-floor-${process.pid}-${i}`]);
    } finally {
      await run('umount', [rootfs]);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i > 0) samples.push(ms); // the first run warms the caches
  }
  await rm(join(work, 'floor-lower'), { recursive: true, force: true });
  return samples;
}
