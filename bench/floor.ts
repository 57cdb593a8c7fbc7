/**
 * The raw floor of `run --rm true`: what any engine must do at least, timed with nothing else —
 * mount an overlay (fresh upper and work directories) on an unpacked busybox, `runc run` a
 * config from `runc spec` (new namespaces, network namespace included) running `true`, unmount.
 * With `bridge`, also a named network namespace with a veth into a bridge (made once, removed
 * after) and an address, as a bridge-networked container needs.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function measureFloor(work: string, rootfsTar: string, runs: number, runtime = 'runc', bridge?: { name: string; prefix: string }): Promise<number[]> {
  const lower = join(work, 'floor-lower');
  await mkdir(lower, { recursive: true });
  await run('tar', ['-xf', rootfsTar, '-C', lower]);
  const bundle = join(work, 'floor-bundle');
  await mkdir(bundle, { recursive: true });
  await run(runtime, ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean; rlimits?: unknown }; root: { readonly: boolean }; linux: { namespaces: { type: string; path?: string }[] } };
  spec.process.args = ['true'];
  spec.process.terminal = false;
  delete spec.process.rlimits; // no CAP_SYS_RESOURCE here: inherit, as berth does
  spec.root.readonly = false;
  const netns = `berthfloor${process.pid}`;
  if (bridge) {
    await run('ip', ['link', 'add', bridge.name, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${bridge.prefix}.1/24`, 'dev', bridge.name]);
    await run('ip', ['link', 'set', bridge.name, 'up']);
    spec.linux.namespaces = spec.linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: `/var/run/netns/${netns}` } : ns));
  }
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  const samples: number[] = [];
  try {
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
        if (bridge) {
          // Two `ip -batch` runs, as an engine needs: the host side, then inside the namespace.
          const host = `bfl${process.pid % 100000}h`;
          const ipBatch = (args: string[], lines: string[]) => new Promise<void>((resolve, reject) => {
            const child = execFile('ip', [...args, '-batch', '-'], (err) => (err ? reject(err) : resolve()));
            child.stdin!.end(`${lines.join('\n')}\n`);
          });
          await ipBatch([], [`netns add ${netns}`, `link add ${host} type veth peer name eth0 netns ${netns}`, `link set ${host} master ${bridge.name} up`]);
          await ipBatch(['-n', netns], [`addr add ${bridge.prefix}.2/24 dev eth0`, 'link set eth0 up', `route add default via ${bridge.prefix}.1`]);
        }
        await run(runtime, ['run', '--bundle', bundle, `berth-floor-${process.pid}-${i}`]);
      } finally {
        await run('umount', [rootfs]);
        if (bridge) await run('ip', ['netns', 'del', netns]).catch(() => undefined); // takes eth0 and its peer with it
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (i > 0) samples.push(ms); // the first run warms the caches
    }
  } finally {
    if (bridge) await run('ip', ['link', 'del', bridge.name]).catch(() => undefined);
    await rm(join(work, 'floor-lower'), { recursive: true, force: true });
  }
  return samples;
}
