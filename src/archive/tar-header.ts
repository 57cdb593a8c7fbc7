/**
 * The tar format at the byte level: 512-byte ustar headers (octal or base-256 numbers), GNU long
 * names, and pax extended headers whose values are kept as raw bytes, because xattr values such
 * as security.capability are binary.
 */
export const BLOCK = 512;

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractions from pax mtime kept). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from pax `SCHILY.xattr.<name>` records. */
  xattrs: Map<string, Buffer>;
}

const TYPE_BY_FLAG: Record<string, EntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const FLAG_BY_TYPE: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

export class TarFormatError extends Error {}

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readNumber(block: Buffer, offset: number, length: number): number {
  const end = offset + length;
  if (block[offset]! & 0x80) {
    // base-256: big-endian, the top bit of the first byte is the marker
    let value = block[offset]! & 0x7f;
    for (let i = offset + 1; i < end; i++) value = value * 256 + block[i]!;
    return value;
  }
  // Octal digits, optionally surrounded by spaces and ended by NUL or space (a byte loop: this
  // runs several times for every entry of every layer).
  let i = offset;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c >= 0x30 && c <= 0x37) {
      value = value * 8 + (c - 0x30);
      digits++;
    } else if (c === 0 || c === 0x20) {
      break;
    } else {
      throw new TarFormatError(`invalid number field in a tar header`);
    }
  }
  for (; i < end; i++) if (block[i] !== 0 && block[i] !== 0x20) throw new TarFormatError('invalid number field in a tar header');
  return digits === 0 ? 0 : value;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum;
}

export interface RawHeader {
  flag: string;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** Decodes one header block; throws TarFormatError when it is not a tar header. */
export function decodeHeader(block: Buffer): RawHeader {
  let stored: number;
  try {
    stored = readNumber(block, 148, 8);
  } catch {
    stored = -1;
  }
  if (stored !== checksum(block)) throw new TarFormatError('header checksum mismatch: not a tar archive, or a corrupt one');
  const magic = block.subarray(257, 263).toString('latin1');
  const ustar = magic.startsWith('ustar');
  let name = readString(block, 0, 100);
  // Only POSIX ustar has the prefix field; GNU tar uses those bytes for other things.
  if (magic === 'ustar\u0000') {
    const prefix = readString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    flag: String.fromCharCode(block[156]!),
    name,
    linkname: readString(block, 157, 100),
    mode: readNumber(block, 100, 8),
    uid: readNumber(block, 108, 8),
    gid: readNumber(block, 116, 8),
    size: readNumber(block, 124, 12),
    mtime: readNumber(block, 136, 12),
    uname: ustar ? readString(block, 265, 32) : '',
    gname: ustar ? readString(block, 297, 32) : '',
    devmajor: ustar ? readNumber(block, 329, 8) : 0,
    devminor: ustar ? readNumber(block, 337, 8) : 0,
  };
}

export function entryTypeOf(flag: string): EntryType | undefined {
  return TYPE_BY_FLAG[flag];
}

/** Parses pax records ("len key=value\n"); values stay raw bytes. */
export function decodePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(offset, space).toString('latin1'), 10);
    if (!Number.isInteger(length) || length <= 0 || offset + length > data.length) throw new TarFormatError('invalid pax header record');
    const record = data.subarray(space + 1, offset + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError('invalid pax header record');
    records.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    offset += length;
  }
  return records;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

function fitsOctal(value: number, length: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 8 ** (length - 1);
}

function ustarBlock(header: TarHeader, name: string, linkname: string, size: number, flag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, header.mode & 0o7777);
  writeOctal(block, 108, 8, fitsOctal(header.uid, 8) ? header.uid : 0);
  writeOctal(block, 116, 8, fitsOctal(header.gid, 8) ? header.gid : 0);
  writeOctal(block, 124, 12, fitsOctal(size, 12) ? size : 0);
  writeOctal(block, 136, 12, fitsOctal(Math.floor(header.mtime), 12) ? Math.floor(header.mtime) : 0);
  block[156] = flag.charCodeAt(0);
  writeString(block, 157, 100, linkname);
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeString(block, 265, 32, header.uname);
  writeString(block, 297, 32, header.gname);
  writeOctal(block, 329, 8, header.devmajor);
  writeOctal(block, 337, 8, header.devminor);
  block.write('        ', 148, 8, 'latin1');
  writeOctal(block, 148, 7, checksum(block));
  block[155] = 0x20;
  return block;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Encodes a header (with a pax header first when names, numbers or xattrs need one). */
export function encodeHeader(header: TarHeader): Buffer {
  const name = header.type === 'dir' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const pax: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(header.linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(header.linkname)));
  const size = header.type === 'file' ? header.size : 0;
  if (!fitsOctal(size, 12)) pax.push(paxRecord('size', Buffer.from(String(size))));
  if (!fitsOctal(header.uid, 8)) pax.push(paxRecord('uid', Buffer.from(String(header.uid))));
  if (!fitsOctal(header.gid, 8)) pax.push(paxRecord('gid', Buffer.from(String(header.gid))));
  if (!Number.isInteger(header.mtime)) pax.push(paxRecord('mtime', Buffer.from(header.mtime.toFixed(9).replace(/0+$/, ''))));
  for (const [key, value] of header.xattrs) pax.push(paxRecord(`SCHILY.xattr.${key}`, value));
  const main = ustarBlock(header, truncateUtf8(name, 100), truncateUtf8(header.linkname, 100), size, FLAG_BY_TYPE[header.type]);
  if (pax.length === 0) return main;
  const data = Buffer.concat(pax);
  const paxHeader = ustarBlock({ ...header, mode: 0o644, type: 'file', mtime: Math.floor(header.mtime) }, truncateUtf8(`PaxHeaders/${name}`, 100), '', data.length, 'x');
  return Buffer.concat([paxHeader, data, Buffer.alloc(padding(data.length)), main]);
}

function truncateUtf8(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  return buffer.length <= bytes ? text : buffer.subarray(0, bytes).toString('utf8').replace(/\uFFFD+$/, '');
}

export function paddingFor(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);
