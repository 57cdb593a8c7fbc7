/** Builds tar archives in memory or as a stream from headers and data (for save, diff and tests). */
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type EntryType, type TarHeader } from './tar-header.js';

export type EntrySpec = Partial<TarHeader> & { name: string; type?: EntryType; data?: Buffer | string };

/** A full header with a sensible default for each field not given. */
export function makeHeader(spec: EntrySpec): TarHeader {
  const data = spec.data === undefined ? undefined : Buffer.from(spec.data);
  const type = spec.type ?? 'file';
  return {
    name: spec.name,
    type,
    mode: spec.mode ?? (type === 'dir' ? 0o755 : 0o644),
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
    size: type === 'file' ? (data?.length ?? spec.size ?? 0) : 0,
    mtime: spec.mtime ?? 0,
    linkname: spec.linkname ?? '',
    uname: spec.uname ?? '',
    gname: spec.gname ?? '',
    devmajor: spec.devmajor ?? 0,
    devminor: spec.devminor ?? 0,
    xattrs: spec.xattrs ?? new Map(),
  };
}

/** The bytes of one entry: header, data, padding. */
export function encodeEntry(header: TarHeader, data?: Buffer): Buffer {
  if (header.type !== 'file' || !data || data.length === 0) return encodeHeader(header);
  return Buffer.concat([encodeHeader(header), data, paddingFor(data.length)]);
}

/** A whole archive in memory: fine for small archives (manifests, tests). */
export function buildTar(entries: EntrySpec[], options: { endMarker?: boolean } = {}): Buffer {
  const parts = entries.map((spec) => encodeEntry(makeHeader(spec), spec.data === undefined ? undefined : Buffer.from(spec.data)));
  if (options.endMarker !== false) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
