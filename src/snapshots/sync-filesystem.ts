/** Flushing an unpacked layer to disk before it is recorded. */
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';

/**
 * syncfs(2) on the filesystem holding `path` (coreutils `sync -f`): one flush for every file of a
 * layer, as containerd's applier does, instead of an fsync per file.
 */
export async function syncFilesystem(path: string, runner: CommandRunner): Promise<void> {
  const result = await runner.run('sync', ['-f', path]);
  if (result.exitCode !== 0) throw new InternalError(`sync ${path} failed: ${result.stderr.trim()}`);
}
