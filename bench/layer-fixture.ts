/**
 * A generated image for unpack benchmarks: 5 gzip layers, 20,000 files, 200 MB of content in
 * all (mostly small files, a few large ones, half-compressible data as real layers are).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { END_OF_ARCHIVE, encodeHeader, paddingFor } from '../src/archive/tar-header.js';
import { makeHeader } from '../src/archive/tar-writer.js';

export interface LayerFixture {
  layers: string[];
  files: number;
  bytes: number;
}

function content(size: number): Buffer {
  // Half random, half repeated text: compresses about 2:1, like binaries and libraries do.
  const random = randomBytes(Math.ceil(size / 2));
  const text = Buffer.from('berth layer benchmark line of fairly ordinary text\n'.repeat(Math.ceil(size / 2 / 51) + 1));
  return Buffer.concat([random, text]).subarray(0, size);
}

export async function makeLayerFixture(dir: string, options = { layers: 5, files: 20_000, bytes: 200_000_000 }): Promise<LayerFixture> {
  await mkdir(dir, { recursive: true });
  const largeCount = 50;
  const largeSize = Math.floor((options.bytes * 0.6) / largeCount);
  const smallCount = options.files - largeCount;
  const smallTotal = options.bytes - largeSize * largeCount;
  const perLayer = Math.ceil(options.files / options.layers);
  const paths: string[] = [];
  let bytes = 0;
  for (let l = 0; l < options.layers; l++) {
    const path = join(dir, `layer${l}.tar.gz`);
    paths.push(path);
    const entries = function* () {
      for (let d = 0; d < 80; d++) yield encodeHeader(makeHeader({ name: `l${l}/d${d}/`, type: 'dir', mtime: 1_700_000_000 }));
      for (let i = 0; i < perLayer; i++) {
        const n = l * perLayer + i;
        if (n >= options.files) break;
        const size = n % Math.floor(options.files / largeCount) === 0 ? largeSize : Math.floor((smallTotal / smallCount) * (0.5 + ((n * 7919) % 1000) / 1000));
        const data = content(size);
        bytes += size;
        yield encodeHeader(makeHeader({ name: `l${l}/d${n % 80}/f${n}`, size, mode: 0o644, mtime: 1_700_000_000 }));
        yield data;
        const pad = paddingFor(size);
        if (pad.length) yield pad;
      }
      yield END_OF_ARCHIVE;
    };
    await pipeline(Readable.from(entries()), createGzip({ level: 6 }), createWriteStream(path));
  }
  return { layers: paths, files: options.files, bytes };
}
