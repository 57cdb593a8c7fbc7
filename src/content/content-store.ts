/**
 * Blobs by digest. A blob is written to ingest/, hashed while it streams, and renamed into
 * blobs/sha256/<hex> only after its digest is checked, so a reader never sees a partial blob.
 */
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { FailedPreconditionError, NotFoundError, errnoCode } from '../lib/errors.js';
import { syncDirectory, writeFileAtomic } from '../lib/atomic-file.js';
import { digestHex, digestOf, sha256Hasher, type Digest } from './digest.js';

async function hashFile(path: string): Promise<string> {
  const hash = sha256Hasher();
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Reading blobs: what an image exporter or a container needs. */
export interface ContentReader {
  has(digest: Digest): Promise<boolean>;
  info(digest: Digest): Promise<BlobInfo>;
  readBytes(digest: Digest): Promise<Buffer>;
  readStream(digest: Digest): ReadStream;
  path(digest: Digest): string;
}

/** Writing blobs: what an importer or a puller needs. */
export interface ContentIngester {
  /** Streams `source` into the store; with `expected`, a different digest is an error and nothing is kept. */
  ingest(source: Readable, expected?: { digest?: Digest; size?: number }): Promise<BlobInfo>;
  putBytes(data: Uint8Array | string, expected?: Digest): Promise<BlobInfo>;
}

export interface ContentStore extends ContentReader, ContentIngester {
  delete(digest: Digest): Promise<void>;
  list(): Promise<BlobInfo[]>;
}

export class LocalContentStore implements ContentStore {
  private readonly blobsDir: string;
  private readonly ingestDir: string;

  private constructor(root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  /**
   * Opens the store under `root`, finishing what a crash left: partial ingests are removed, and
   * every blob written since the previous open is hashed again and removed if it does not match
   * its name (a pull fetches it again), so a damaged blob is never served.
   */
  static async open(root: string): Promise<LocalContentStore> {
    const store = new LocalContentStore(root);
    await mkdir(store.blobsDir, { recursive: true, mode: 0o700 });
    await rm(store.ingestDir, { recursive: true, force: true });
    await mkdir(store.ingestDir, { recursive: true, mode: 0o700 });
    const marker = join(root, 'opened');
    const previousOpen = await stat(marker).then(
      (s) => s.mtimeMs,
      (err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return 0;
        throw err;
      },
    );
    // The marker moves only once every newer blob is checked: a kill during the check checks them again.
    store.removedAtOpen = await store.verifyWrittenSince(previousOpen);
    await writeFileAtomic(marker, '');
    return store;
  }

  /** Blobs open() found damaged and removed. */
  removedAtOpen: Digest[] = [];

  private async verifyWrittenSince(sinceMs: number): Promise<Digest[]> {
    const removed: Digest[] = [];
    for (const hex of await readdir(this.blobsDir)) {
      const path = join(this.blobsDir, hex);
      if (!/^[a-f0-9]{64}$/.test(hex)) {
        // Not a blob name: a temp file of an older layout. Blobs only ever appear by rename.
        await rm(path, { recursive: true, force: true });
        continue;
      }
      const info = await stat(path).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw err;
      });
      // Written in the last second before the previous open counts as new: mtimes can be coarse.
      if (!info || info.mtimeMs < sinceMs - 1000) continue;
      const actual = await hashFile(path).catch(() => undefined); // unreadable: kept, never deleted for a read error
      if (actual !== undefined && actual !== hex) {
        await this.delete(`sha256:${hex}`);
        removed.push(`sha256:${hex}`);
      }
    }
    return removed;
  }

  path(digest: Digest): string {
    return join(this.blobsDir, digestHex(digest));
  }

  /** Whether the blob is stored; a stat error other than ENOENT is an error, not "absent". */
  async has(digest: Digest): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      (err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return false;
        throw err;
      },
    );
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      return { digest, size: (await stat(this.path(digest))).size };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  /** The whole blob, checked against its digest: a damaged blob is removed and never returned. */
  async readBytes(digest: Digest): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
    if (digestOf(bytes) !== digest) {
      await this.delete(digest);
      throw new FailedPreconditionError(`content ${digest}: the stored bytes do not match the digest; removed (pull or load the image again)`, { code: 'BERTH_DIGEST_MISMATCH' });
    }
    return bytes;
  }

  readStream(digest: Digest): ReadStream {
    return createReadStream(this.path(digest), { highWaterMark: 1024 * 1024 });
  }

  /** A temp path inside ingest/ for callers that stage files (removed by them or at next start). */
  tempPath(label: string): string {
    return join(this.ingestDir, `${label}-${randomBytes(8).toString('hex')}`);
  }

  async ingest(source: Readable, expected: { digest?: Digest; size?: number } = {}): Promise<BlobInfo> {
    const temp = this.tempPath('blob');
    const hash = sha256Hasher();
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(temp, { mode: 0o644, flush: true }));
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      if (expected.digest && expected.digest !== digest) {
        throw new FailedPreconditionError(`digest mismatch: expected ${expected.digest}, got ${digest}`, { code: 'BERTH_DIGEST_MISMATCH' });
      }
      if (expected.size !== undefined && expected.size !== size) {
        throw new FailedPreconditionError(`size mismatch for ${digest}: expected ${expected.size} bytes, got ${size}`);
      }
      await rename(temp, this.path(digest));
      await syncDirectory(this.blobsDir);
      return { digest, size };
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  async putBytes(data: Uint8Array | string, expected?: Digest): Promise<BlobInfo> {
    const { Readable } = await import('node:stream');
    return this.ingest(Readable.from([Buffer.from(data)]), { digest: expected });
  }

  /**
   * Moves a file the caller has already verified (same filesystem) into the store as `digest`.
   * Used by the registry, whose resumable uploads live outside ingest/.
   */
  async commitFile(path: string, digest: Digest): Promise<BlobInfo> {
    // The caller's writer may not have flushed: the bytes reach the disk before the name does.
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(path, this.path(digest));
    await syncDirectory(this.blobsDir);
    return this.info(digest);
  }

  async delete(digest: Digest): Promise<void> {
    await unlink(this.path(digest)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
  }

  async list(): Promise<BlobInfo[]> {
    const names = await readdir(this.blobsDir);
    const infos = await Promise.all(
      names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map(async (hex) => {
        // A blob deleted since readdir is simply not listed.
        const info = await stat(join(this.blobsDir, hex)).catch((err: unknown) => {
          if (errnoCode(err) === 'ENOENT') return undefined;
          throw err;
        });
        return info && { digest: `sha256:${hex}` as Digest, size: info.size };
      }),
    );
    return infos.filter((i): i is BlobInfo => i !== undefined);
  }
}

