/** Mounting and unmounting snapshot mounts through the CommandRunner (mount(8), umount(8)). */
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';
import type { Mount } from './snapshotter.js';

export async function mountAll(mounts: readonly Mount[], target: string, runner: CommandRunner): Promise<void> {
  for (const mount of mounts) {
    const args = mount.type === 'bind' ? ['--bind', mount.source, target] : ['-t', mount.type, mount.source, '-o', mount.options.join(','), target];
    const result = await runner.run('mount', args, { cwd: mount.cwd });
    if (result.exitCode !== 0) throw new InternalError(`mount ${mount.type} on ${target} failed: ${result.stderr.trim()}`);
  }
}

export async function unmount(target: string, runner: CommandRunner): Promise<void> {
  const result = await runner.run('umount', [target]);
  if (result.exitCode !== 0 && !/not mounted|no mount point/.test(result.stderr)) {
    throw new InternalError(`umount ${target} failed: ${result.stderr.trim()}`);
  }
}
