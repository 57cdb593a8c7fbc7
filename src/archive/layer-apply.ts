/**
 * Applies a layer tar (gzip, zstd or plain) to an empty directory. berth reads and checks every
 * header itself, turns OCI whiteouts into overlay whiteouts, and hands GNU tar a canonical archive
 * that it wrote (so both read the same names), which GNU tar extracts with owners, modes,
 * setuid bits, devices, fifos, hard links and xattrs.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { posix, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, InternalError } from '../lib/errors.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { sha256Hasher, type Digest } from '../content/digest.js';
import { openDecompressed, type Compression } from './compression.js';
import { cleanEntryPath, HostileArchiveError, SymlinkGuard } from './entry-path.js';
import { readTar } from './tar-reader.js';
import { END_OF_ARCHIVE, TarFormatError, encodeHeader, paddingFor, type TarHeader } from './tar-header.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface LayerApplyResult {
  /** sha256 of the uncompressed tar: the layer's DiffID. */
  diffId: Digest;
  compression: Compression;
  /** Bytes of regular-file content written. */
  size: number;
  entries: number;
}

export interface LayerApplyOptions {
  runner: CommandRunner;
  tarPath?: string;
}

/** Up to this much may wait in Node for the pipe, so berth keeps decompressing while tar writes. */
const MAX_QUEUED = 8 * 1024 * 1024;

function write(stream: Writable, data: Buffer): Promise<void> {
  if (stream.write(data) || stream.writableLength < MAX_QUEUED) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => { stream.off('drain', onDrain); stream.off('error', onError); stream.off('close', onClose); };
    const onDrain = () => { cleanup(); resolve(); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onClose = () => { cleanup(); reject(new InternalError('tar stopped reading the layer')); };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * Gathers small pieces (headers, padding, small files) into large writes: one pipe write per
 * piece costs more than the extraction itself for layers of many small files.
 */
class BatchedWriter {
  private pieces: Buffer[] = [];
  private size = 0;

  constructor(private readonly stream: Writable, private readonly limit = 256 * 1024) {}

  async push(piece: Buffer): Promise<void> {
    this.pieces.push(piece);
    this.size += piece.length;
    if (this.size >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const data = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    this.size = 0;
    await write(this.stream, data);
  }
}

/** Applies the layer in `source` to `target` (an existing, empty directory). */
export async function applyLayer(source: Readable, target: string, options: LayerApplyOptions): Promise<LayerApplyResult> {
  const { compression, stream } = await openDecompressed(source);
  const hash = sha256Hasher();
  const hashed = (async function* () {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  })();

  // -P: names are already cleaned above; without it GNU tar delays absolute symlinks to the end,
  // which would let an earlier symlink win over a later file of the same name.
  const tar = spawn(options.tarPath ?? 'tar', ['-x', '-P', '-f', '-', '-C', target, '--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', '--xattrs-include=*', '--no-unquote'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let tarErrors = '';
  tar.stderr.on('data', (c: Buffer) => (tarErrors += c.toString()));
  tar.stdin.on('error', () => undefined);
  const tarExit = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? -1));
  });

  const out = new BatchedWriter(tar.stdin);
  const guard = new SymlinkGuard();
  const opaqueDirs: string[] = [];
  let size = 0;
  let entries = 0;
  try {
    for await (const entry of readTar(hashed)) {
      const header = entry.header;
      const path = cleanEntryPath(header.name);
      if (path === '') {
        await out.push(encodeHeader({ ...header, name: './', xattrs: header.xattrs }));
        continue;
      }
      guard.check(path, header.name);
      const base = posix.basename(path);
      const parent = posix.dirname(path);
      if (base === OPAQUE_WHITEOUT) {
        opaqueDirs.push(parent === '.' ? '' : parent);
        continue;
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) continue; // aufs metadata, not a path
        const hidden = posix.join(parent, base.slice(WHITEOUT_PREFIX.length));
        if (hidden === '.' || hidden === '..' || hidden.startsWith('../')) throw new HostileArchiveError(`refusing whiteout "${header.name}"`);
        guard.record(hidden, false);
        const whiteout: TarHeader = { ...header, name: hidden, type: 'char', mode: 0, size: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
        await out.push(encodeHeader(whiteout));
        entries++;
        continue;
      }
      const canonical: TarHeader = { ...header, name: path };
      if (header.type === 'link') {
        const linkTarget = cleanEntryPath(header.linkname);
        if (linkTarget === '') throw new HostileArchiveError(`refusing hard link "${header.name}" to the target root`);
        guard.check(`${linkTarget}/`, header.linkname);
        canonical.linkname = linkTarget;
      }
      guard.record(path, header.type === 'symlink');
      await out.push(encodeHeader(canonical));
      if (header.type === 'file') {
        // Chunks are views of the decompressed stream's buffers, which nothing writes to again.
        for await (const chunk of entry.data()) await out.push(chunk);
        const pad = paddingFor(header.size);
        if (pad.length) await out.push(pad);
        size += header.size;
      }
      entries++;
    }
    await out.push(END_OF_ARCHIVE);
    await out.flush();
    tar.stdin.end();
    const code = await tarExit;
    if (code !== 0) throw new InvalidArgumentError(`invalid layer: tar could not extract it: ${tarErrors.trim() || `exit ${code}`}`);
  } catch (err) {
    tar.kill('SIGKILL');
    await tarExit.catch(() => undefined);
    stream.destroy();
    const message = (err as Error).message;
    if (err instanceof InvalidArgumentError && message.startsWith('invalid layer')) throw err;
    if (err instanceof TarFormatError || err instanceof InvalidArgumentError) throw new InvalidArgumentError(`invalid layer: ${message}`, { cause: err });
    throw err;
  }

  if (opaqueDirs.length > 0) {
    for (const dir of opaqueDirs) await mkdir(join(target, dir), { recursive: true, mode: 0o755 });
    const result = await options.runner.run('setfattr', ['-n', OPAQUE_XATTR, '-v', 'y', '--', ...opaqueDirs.map((d) => join(target, d))]);
    if (result.exitCode !== 0) throw new InternalError(`cannot mark opaque directories: ${result.stderr.trim()}`);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, compression, size, entries };
}
