/**
 * Go's os.FileMode, which the docker CLI reads from X-Docker-Container-Path-Stat to tell a
 * directory from a file: permission bits low, type and special bits high (bit 31 = directory).
 */
import type { Stats } from 'node:fs';

const DIR = 2 ** 31;
const SYMLINK = 2 ** 27;
const DEVICE = 2 ** 26;
const NAMED_PIPE = 2 ** 25;
const SOCKET = 2 ** 24;
const SETUID = 2 ** 23;
const SETGID = 2 ** 22;
const CHAR_DEVICE = 2 ** 21;
const STICKY = 2 ** 20;

export function goFileMode(stats: Stats): number {
  let mode = stats.mode & 0o777;
  if (stats.mode & 0o4000) mode += SETUID;
  if (stats.mode & 0o2000) mode += SETGID;
  if (stats.mode & 0o1000) mode += STICKY;
  if (stats.isDirectory()) mode += DIR;
  else if (stats.isSymbolicLink()) mode += SYMLINK;
  else if (stats.isFIFO()) mode += NAMED_PIPE;
  else if (stats.isSocket()) mode += SOCKET;
  else if (stats.isCharacterDevice()) mode += DEVICE + CHAR_DEVICE;
  else if (stats.isBlockDevice()) mode += DEVICE;
  return mode;
}

export function isGoDirectory(mode: number): boolean {
  return Math.floor(mode / DIR) % 2 === 1;
}

export function isGoSymlink(mode: number): boolean {
  return Math.floor(mode / SYMLINK) % 2 === 1;
}

/** The stat docker cp exchanges: name, size, Go mode, RFC 3339 mtime, resolved link target. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export function encodePathStat(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

export function decodePathStat(header: string): PathStat {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
}
