/**
 * Reads a tar stream entry by entry. GNU long names and pax headers are folded into the entry
 * they describe; each entry's data must be consumed (or skipped) before the next is read.
 */
import { BLOCK, TarFormatError, decodeHeader, decodePax, entryTypeOf, isZeroBlock, type TarHeader } from './tar-header.js';

export interface TarEntry {
  header: TarHeader;
  /** The entry's bytes, in chunks; reading stops at the entry's size. */
  data(): AsyncGenerator<Buffer>;
}

/** Pulls exact byte counts out of an async iterable of chunks. */
class ByteSource {
  private chunk: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  private ended = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.iterator = (async function* () {
      for await (const c of source) yield typeof c === 'string' ? Buffer.from(c) : c;
    })();
  }

  private async fill(): Promise<boolean> {
    while (this.chunk.length === 0) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.chunk = next.value;
    }
    return true;
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    if (this.chunk.length >= n) {
      const out = this.chunk.subarray(0, n);
      this.chunk = this.chunk.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n && (await this.fill())) {
      const take = Math.min(n - have, this.chunk.length);
      parts.push(this.chunk.subarray(0, take));
      this.chunk = this.chunk.subarray(take);
      have += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
  }

  /** Up to n bytes as they arrive, without gathering them into one buffer. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TarFormatError('unexpected end of archive inside an entry (truncated)');
      const take = Math.min(left, this.chunk.length);
      const out = this.chunk.subarray(0, take);
      this.chunk = this.chunk.subarray(take);
      left -= take;
      yield out;
    }
  }

  /** Reads and discards everything left (so a digest over the whole stream is complete). */
  async drain(): Promise<void> {
    this.chunk = Buffer.alloc(0);
    while (await this.fill()) this.chunk = Buffer.alloc(0);
  }
}

const PAD = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
const MAX_META = 1024 * 1024;

export async function* readTar(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const bytes = new ByteSource(source);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, Buffer> | undefined;
  let globalPax = new Map<string, Buffer>();
  let sawEntry = false;
  for (;;) {
    const block = await bytes.read(BLOCK);
    // Like Go's archive/tar, an archive that ends cleanly between entries is complete.
    if (block.length === 0 && sawEntry) return;
    if (block.length === 0) throw new TarFormatError('empty input: not a tar archive');
    if (block.length < BLOCK) throw new TarFormatError('unexpected end of archive inside a header (truncated)');
    if (isZeroBlock(block)) {
      await bytes.drain();
      return;
    }
    const raw = decodeHeader(block);
    sawEntry = true;
    const readMeta = async (): Promise<Buffer> => {
      if (raw.size > MAX_META) throw new TarFormatError(`extended header of ${raw.size} bytes is too large`);
      const data = await bytes.read(raw.size);
      if (data.length < raw.size) throw new TarFormatError('unexpected end of archive inside an extended header (truncated)');
      await bytes.read(PAD(raw.size));
      return data;
    };
    if (raw.flag === 'L') { longName = (await readMeta()).toString('utf8').replace(/\0+$/, ''); continue; }
    if (raw.flag === 'K') { longLink = (await readMeta()).toString('utf8').replace(/\0+$/, ''); continue; }
    if (raw.flag === 'x') { pax = decodePax(await readMeta()); continue; }
    if (raw.flag === 'g') { globalPax = new Map([...globalPax, ...decodePax(await readMeta())]); continue; }
    const type = entryTypeOf(raw.flag);
    if (!type) throw new TarFormatError(`unsupported tar entry type '${raw.flag}' for ${raw.name}`);
    const records = new Map([...globalPax, ...(pax ?? [])]);
    const text = (key: string) => records.get(key)?.toString('utf8');
    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of records) if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    const number = (key: string, fallback: number) => {
      const value = text(key);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new TarFormatError(`invalid pax ${key} "${value}"`);
      return n;
    };
    const header: TarHeader = {
      name: text('path') ?? longName ?? raw.name,
      linkname: text('linkpath') ?? longLink ?? raw.linkname,
      type,
      mode: raw.mode,
      uid: number('uid', raw.uid),
      gid: number('gid', raw.gid),
      size: type === 'file' ? number('size', raw.size) : 0,
      mtime: number('mtime', raw.mtime),
      uname: text('uname') ?? raw.uname,
      gname: text('gname') ?? raw.gname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs,
    };
    longName = longLink = pax = undefined;
    // Hard links and such may carry a size field; their data, if any, is skipped.
    const dataSize = type === 'file' ? header.size : raw.size;
    let consumed = false;
    const data = async function* (): AsyncGenerator<Buffer> {
      if (consumed) return;
      consumed = true;
      yield* bytes.stream(dataSize);
    };
    yield { header, data };
    if (!consumed) for await (const _ of data()) { /* skip the unread data */ }
    const pad = await bytes.read(PAD(dataSize));
    if (pad.length < PAD(dataSize)) throw new TarFormatError('unexpected end of archive (truncated)');
  }
}
