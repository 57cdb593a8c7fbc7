/**
 * ADD of a local tar archive (plain, gzip or zstd): recognised by its first bytes, read without
 * following a link (a context may hold `x.tar -> /etc/...`) and never from a FIFO or device, then
 * extracted inside the target with the same path safety as docker cp and an unpack limit.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { openDecompressed } from '../archive/compression.js';
import { extractArchive } from '../archive/path-archive.js';
import type { RootedFilesystem } from '../archive/rooted-path.js';
import { InvalidArgumentError } from '../lib/errors.js';

/** Opens a regular file without following a link or blocking on a FIFO; undefined for anything else. */
async function openRegular(hostPath: string): Promise<FileHandle | undefined> {
  const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return undefined;
}

/** gzip, zstd or a plain tar (ustar magic at 257): what ADD unpacks. A link is never one. */
export async function isLocalArchive(hostPath: string): Promise<boolean> {
  const handle = await openRegular(hostPath);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await handle.close();
  }
}

export interface LocalArchiveOptions {
  owner: { uid: number; gid: number } | undefined;
  maxUnpackedBytes: number;
}

/** Extracts the archive at `hostPath` into `target` below the absolute directory `dest`. */
export async function extractLocalArchive(hostPath: string, target: RootedFilesystem, dest: string, options: LocalArchiveOptions): Promise<void> {
  const handle = await openRegular(hostPath);
  if (!handle) throw new InvalidArgumentError(`ADD failed: ${posix.basename(hostPath)} changed while the build read it`);
  try {
    const { stream } = await openDecompressed(Readable.from(handle.createReadStream({ autoClose: false })), { maxUnpackedBytes: options.maxUnpackedBytes });
    await extractArchive(stream as AsyncIterable<Buffer>, target, '/', {
      noOverwriteDirNonDir: false,
      rename: (p) => posix.join(dest.slice(1), p),
      ...(options.owner ? { owner: options.owner } : {}),
    });
  } finally {
    await handle.close();
  }
}
