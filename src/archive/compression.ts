/**
 * Layer compression, detected from the first bytes as Docker does: gzip (zlib, in-process),
 * zstd (`zstd -dc`, since Node 20's zlib has none) or none.
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable } from 'node:stream';
import { InvalidArgumentError } from '../lib/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Reads the first bytes of `source`, then returns the whole stream decompressed. */
export async function openDecompressed(source: Readable, zstdPath = 'zstd'): Promise<{ compression: Compression; stream: Readable }> {
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
    const out = new PassThrough();
    replay.on('error', (err) => out.destroy(err));
    gunzip.on('error', (err) => out.destroy(new InvalidArgumentError(`corrupt or truncated gzip data: ${err.message}`, { cause: err })));
    replay.pipe(gunzip).pipe(out);
    return { compression, stream: out };
  }
  const child = spawn(zstdPath, ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.on('error', () => undefined);
  replay.on('error', (err) => { child.kill(); out.destroy(err); });
  replay.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new InvalidArgumentError(`cannot run zstd to decompress a layer: ${err.message}`)));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new InvalidArgumentError(`corrupt or truncated zstd data: ${stderr.trim() || `zstd exited with ${code}`}`));
  });
  return { compression, stream: out };
}
