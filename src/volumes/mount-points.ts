/**
 * Which paths are mount points, read from /proc/self/mountinfo (berthd's own mount namespace, where
 * it mounts volumes). A bind mount of a directory on the same filesystem has the same st_dev as its
 * parent, so only the kernel's mount table tells for sure.
 */
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';

/** The mount points listed in mountinfo text (field 5), with the kernel's octal escapes decoded. */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.push(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

/** The mount points at `dir` itself or anywhere below it. */
export function mountPointsWithin(dir: string, mountinfo: string): string[] {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return parseMountPoints(mountinfo).filter((point) => point === dir || point.startsWith(prefix));
}

/** Reads the mount table; a failure is an error, never "nothing is mounted". */
export function readMountinfo(): Promise<string> {
  return readFile('/proc/self/mountinfo', 'utf8');
}
