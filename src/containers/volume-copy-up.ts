/**
 * Docker's volume copy-up: an empty volume mounted over a directory of the image starts with a copy
 * of that directory. The directory is found the way the runtime finds the mount point, inside the
 * container's root (an image's `/data -> /root` link leads to the image's /root, never the host's),
 * and the copy never follows a link.
 */
import { RootedFilesystem } from '../archive/rooted-path.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';
import { readdir } from 'node:fs/promises';

/** The host path of the image directory an empty volume at `destination` gets, if it has entries. */
export async function copyUpSource(rootfs: string, destination: string): Promise<string | undefined> {
  const resolved = await new RootedFilesystem(rootfs).resolve(destination, { followLast: true }).catch(() => undefined);
  if (!resolved?.stats?.isDirectory()) return undefined;
  const entries = await readdir(resolved.hostPath).catch(() => [] as string[]);
  return entries.length > 0 ? resolved.hostPath : undefined;
}

/**
 * Copies the image's directory at `destination` into the volume directory `target` (owners, modes,
 * times, xattrs kept). `cp -a` copies links as links; the source is a path whose every component
 * was checked to be a real directory inside the root, and nothing runs in the root yet.
 */
export async function copyUp(runner: CommandRunner, rootfs: string, destination: string, target: string, volumeName: string): Promise<boolean> {
  const source = await copyUpSource(rootfs, destination);
  if (!source) return false;
  const copied = await runner.run('cp', ['-a', '--no-dereference', '--', `${source}/.`, `${target}/`]);
  if (copied.exitCode !== 0) throw new InternalError(`copying ${destination} of the image into volume ${volumeName}: ${copied.stderr.trim()}`);
  return true;
}
