/**
 * Applies a layer tar (gzip, zstd or plain) to an empty directory. berth reads and checks every
 * header itself, turns OCI whiteouts into overlay whiteouts, and hands GNU tar a canonical archive
 * that it wrote (so both read the same names), which GNU tar extracts with owners, modes,
 * setuid bits, devices, fifos, hard links and xattrs.
 */
import { spawn } from 'node:child_process';
import { posix } from 'node:path';
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
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';

export interface LayerApplyResult {
  /** sha256 of the uncompressed tar: the layer's DiffID. */
  diffId: Digest;
  compression: Compression;
  /** Bytes of regular-file content written. */
  size: number;
  entries: number;
}

export interface LayerApplyOptions {
  /** Unused since opaque marks travel in the tar stream; kept so callers need not change. */
  runner?: CommandRunner;
  tarPath?: string;
  /** Bytes a gzip or zstd layer may unpack to (default DEFAULT_MAX_UNPACKED_BYTES). */
  maxUnpackedBytes?: number;
}

/** Up to this much may wait in Node for the pipe, so berth keeps decompressing while tar writes. */
const MAX_QUEUED = 8 * 1024 * 1024;

/**
 * overlayfs's own attributes say what the lower layers look like (opaque, redirect, metacopy):
 * only berth sets them, from the OCI markers, never an archive directly.
 */
function withoutOverlayXattrs(xattrs: Map<string, Buffer>): Map<string, Buffer> {
  if (![...xattrs.keys()].some((k) => k.startsWith(OVERLAY_XATTR_PREFIX))) return xattrs;
  return new Map([...xattrs].filter(([key]) => !key.startsWith(OVERLAY_XATTR_PREFIX)));
}

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
  const { compression, stream } = await openDecompressed(source, options.maxUnpackedBytes === undefined ? {} : { maxUnpackedBytes: options.maxUnpackedBytes });
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
  /** The last directory entry at each path, so an opaque marker can repeat it with the mark. */
  const directories = new Map<string, TarHeader>();
  let size = 0;
  let entries = 0;
  try {
    for await (const entry of readTar(hashed)) {
      const header = entry.header;
      const path = cleanEntryPath(header.name);
      if (path === '') {
        const root = { ...header, name: './', xattrs: withoutOverlayXattrs(header.xattrs) };
        directories.set('', root);
        await out.push(encodeHeader(root));
        continue;
      }
      guard.check(path, header.name);
      const base = posix.basename(path);
      const parent = posix.dirname(path);
      if (base === OPAQUE_WHITEOUT) {
        // Marked here, in stream order, by a directory entry that tar applies like any other: a
        // later entry that turns a parent into a symlink cannot redirect the mark to the host.
        const dir = parent === '.' ? '' : parent;
        const own = directories.get(dir);
        const xattrs = new Map(own?.xattrs ?? []).set(OPAQUE_XATTR, Buffer.from('y'));
        const marked: TarHeader = own
          ? { ...own, xattrs }
          : { name: dir, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: header.mtime, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs };
        await out.push(encodeHeader({ ...marked, name: dir === '' ? './' : `${dir}/` }));
        guard.record(dir, false);
        directories.set(dir, marked);
        continue;
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) continue; // aufs metadata, not a path
        if (base === WHITEOUT_PREFIX) throw new HostileArchiveError(`refusing whiteout "${header.name}": it names no file`);
        const hidden = posix.join(parent, base.slice(WHITEOUT_PREFIX.length));
        if (hidden === '.' || hidden === '..' || hidden.startsWith('../')) throw new HostileArchiveError(`refusing whiteout "${header.name}"`);
        guard.record(hidden, false);
        const whiteout: TarHeader = { ...header, name: hidden, type: 'char', mode: 0, size: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
        await out.push(encodeHeader(whiteout));
        entries++;
        continue;
      }
      const canonical: TarHeader = { ...header, name: path, xattrs: withoutOverlayXattrs(header.xattrs) };
      if (header.type === 'link') {
        const linkTarget = cleanEntryPath(header.linkname);
        if (linkTarget === '') throw new HostileArchiveError(`refusing hard link "${header.name}" to the target root`);
        guard.check(`${linkTarget}/`, header.linkname);
        canonical.linkname = linkTarget;
      }
      guard.record(path, header.type === 'symlink');
      if (header.type === 'dir') directories.set(path, canonical);
      else directories.delete(path);
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

  return { diffId: `sha256:${hash.digest('hex')}`, compression, size, entries };
}
