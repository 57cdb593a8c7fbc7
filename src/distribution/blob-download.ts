/**
 * One layer's download as a stream: bytes go to the unpacker as they arrive and to a temp file
 * beside the content store; a dropped connection resumes with Range; at the end the digest is
 * checked (a mismatch fails the stream, so the layer is discarded) and the blob is committed.
 */
import { unlink } from 'node:fs/promises';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { LocalContentStore } from '../content/index.js';
import { sha256Hasher, type Digest } from '../content/digest.js';
import { FailedPreconditionError, UnavailableError } from '../lib/errors.js';
import { RegistryClient } from './registry-client.js';

export interface DownloadOptions {
  client: RegistryClient;
  repo: string;
  scope: string;
  digest: Digest;
  size: number;
  content: LocalContentStore;
  onBytes: (received: number) => void;
  /** Attempts after a dropped connection, with backoff. */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function downloadBlob(options: DownloadOptions): Readable {
  const { client, repo, scope, digest, size, content } = options;
  const retries = options.retries ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  async function* chunks(): AsyncGenerator<Buffer> {
    const temp = content.tempPath('pull');
    // A write stream, awaited only when its buffer is full, so the unpacker never waits on the disk.
    const file: WriteStream = createWriteStream(temp, { mode: 0o644, flush: true });
    // A write error (ENOSPC) is kept and thrown at the next write: never an unhandled rejection,
    // which would end berthd, and never a wait for a 'drain' that cannot come.
    let fileError: Error | undefined;
    const fileDone = new Promise<void>((resolve, reject) => {
      file.once('close', () => (fileError ? reject(fileError) : resolve()));
      file.once('error', (err) => {
        fileError = err;
        reject(err);
      });
    });
    fileDone.catch(() => undefined);
    const write = async (buffer: Buffer) => {
      if (fileError) throw fileError;
      if (!file.write(buffer)) await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        file.once('error', onError);
        file.once('drain', () => {
          file.off('error', onError);
          resolve();
        });
      });
      if (fileError) throw fileError;
    };
    const hash = sha256Hasher();
    let received = 0;
    let committed = false;
    try {
      let failures = 0;
      for (;;) {
        let response: Response;
        try {
          response = await client.request('GET', `/v2/${repo}/blobs/${digest}`, { scope, headers: received > 0 ? { Range: `bytes=${received}-` } : {} });
        } catch (err) {
          if (++failures > retries) throw err;
          await sleep(100 * 2 ** failures);
          continue;
        }
        if (!response.ok) throw await RegistryClient.errorFrom(response, `pulling blob ${digest}`);
        if (received > 0 && response.status !== 206) {
          // The bytes before the cut are already unpacked; without Range there is no way on.
          await response.body?.cancel();
          throw new UnavailableError(`the connection dropped while pulling ${digest} and the registry does not support resuming (Range); retry the pull`);
        }
        try {
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
            const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            hash.update(buffer);
            await write(buffer);
            received += buffer.length;
            options.onBytes(received);
            yield buffer;
          }
        } catch (err) {
          // The connection dropped: resume from what arrived.
          if (++failures > retries) throw new UnavailableError(`download of ${digest} failed after ${retries} retries: ${(err as Error).message}`);
          await sleep(100 * 2 ** failures);
          continue;
        }
        // A response that ended cleanly is the whole blob as the registry has it; the digest decides.
        break;
      }
      const actual: Digest = `sha256:${hash.digest('hex')}`;
      if (actual !== digest || received !== size) {
        throw new FailedPreconditionError(`filesystem layer verification failed for digest ${digest}`, { code: 'BERTH_DIGEST_MISMATCH' });
      }
      file.end();
      await fileDone;
      await content.commitFile(temp, digest);
      committed = true;
    } finally {
      if (!committed) {
        file.destroy();
        await fileDone.catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
