/**
 * Layer compression, detected from the first bytes as Docker does: gzip (zlib, in-process),
 * zstd (`zstd -dc`, since Node 20's zlib has none) or none.
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable, type TransformCallback } from 'node:stream';
import { InvalidArgumentError } from '../lib/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/**
 * What a compressed stream from outside may unpack to unless the caller says otherwise: far above
 * any real layer or build context, low enough that a few kilobytes of zstd cannot fill the disk.
 */
export const DEFAULT_MAX_UNPACKED_BYTES = 64 * 1024 ** 3;

export interface DecompressOptions {
  /** Bytes a gzip or zstd stream may unpack to; more is an error (a decompression bomb). */
  maxUnpackedBytes?: number;
  zstdPath?: string;
}

/** A compressed stream that unpacks to more than its limit. */
export class UnpackLimitError extends InvalidArgumentError {
  constructor(compression: Compression, limit: number) {
    super(`${compression} data unpacks to more than ${limit} bytes, the limit for what berthd unpacks from one stream`, { code: 'BERTH_UNPACK_LIMIT' });
  }
}

/**
 * Reads the first bytes of `source`, then returns the whole stream decompressed; the decompressed
 * stream fails with UnpackLimitError once it passes `maxUnpackedBytes`.
 */
export async function openDecompressed(source: Readable, options: DecompressOptions = {}): Promise<{ compression: Compression; stream: Readable }> {
  const limit = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const zstdPath = options.zstdPath ?? 'zstd';
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < 4) {
    const next = await iterator.next();
    if (next.done) { done = true; break; }
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const compression = detectCompression(first);
  const replay = Readable.from(
    (async function* () {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
    { objectMode: false },
  );
  if (compression === 'none') return { compression, stream: replay };
  if (compression === 'gzip') {
    // Large output chunks: with the default 16 KiB, per-chunk overhead costs several times the inflate itself.
    const gunzip = createGunzip({ chunkSize: 512 * 1024 });
    const out = new LimitedPassThrough(limit, () => new UnpackLimitError(compression, limit), () => { replay.destroy(); gunzip.destroy(); });
    replay.on('error', (err) => out.destroy(err));
    gunzip.on('error', (err) => out.destroy(new InvalidArgumentError(`corrupt or truncated gzip data: ${err.message}`, { cause: err })));
    replay.pipe(gunzip).pipe(out);
    return { compression, stream: out };
  }
  const child = spawn(zstdPath, ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new LimitedPassThrough(limit, () => new UnpackLimitError(compression, limit), () => { replay.destroy(); child.kill('SIGKILL'); });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.on('error', () => undefined);
  replay.on('error', (err) => { child.kill(); out.destroy(err); });
  replay.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new InvalidArgumentError(`cannot run zstd to decompress a layer: ${err.message}`)));
  child.on('close', (code) => {
    if (out.destroyed) return;
    if (code === 0) out.end();
    else out.destroy(new InvalidArgumentError(`corrupt or truncated zstd data: ${stderr.trim() || `zstd exited with ${code}`}`));
  });
  return { compression, stream: out };
}

/** Passes bytes through until `limit`; one byte more destroys it with `error()` and calls `stop`. */
class LimitedPassThrough extends PassThrough {
  private passed = 0;

  constructor(private readonly limit: number, private readonly error: () => Error, private readonly stop: () => void) {
    super();
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    this.passed += chunk.length;
    if (this.passed > this.limit) {
      this.stop();
      callback(this.error());
      return;
    }
    super._transform(chunk, encoding, callback);
  }
}
