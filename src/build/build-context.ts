/**
 * The build context as the client sends it (a tar, maybe gzip or zstd), unpacked into a private
 * directory: every entry resolved inside it as docker cp does, device nodes skipped (a context is
 * no image layer, and berthd makes no devices outside layers), and an unpack limit.
 */
import type { Readable } from 'node:stream';
import { openDecompressed } from '../archive/compression.js';
import { extractArchive } from '../archive/path-archive.js';
import { RootedFilesystem } from '../archive/rooted-path.js';

export async function unpackBuildContext(context: Readable, contextDir: string, maxUnpackedBytes: number): Promise<void> {
  const { stream } = await openDecompressed(context, { maxUnpackedBytes });
  await extractArchive(stream as AsyncIterable<Buffer>, new RootedFilesystem(contextDir), '/', { noOverwriteDirNonDir: false, skipDevices: true });
}
