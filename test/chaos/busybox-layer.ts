/**
 * The busybox rootfs tar built in this process (one `busybox --list-full`, no fork per applet):
 * the same files as scripts/make-busybox-rootfs, in a second instead of half a minute on a busy
 * machine, so the crash harness spends its time on kill points.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { buildTar, type EntrySpec } from '../../src/archive/tar-writer.js';

const DIRS = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'dev', 'proc', 'sys', 'root', 'home', 'mnt', 'opt', 'srv', 'var', 'var/log', 'run', 'tmp'];

export function busyboxLayer(): Buffer {
  const applets = execFileSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'bin/busybox');
  const dirs = new Set(DIRS);
  for (const applet of applets) for (let d = posix.dirname(applet); d !== '.'; d = posix.dirname(d)) dirs.add(d);
  const entries: EntrySpec[] = [...dirs].sort().map((d) => ({ name: `${d}/`, type: 'dir', mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 }));
  entries.push({ name: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 });
  for (const applet of applets) entries.push({ name: applet, type: 'symlink', linkname: '/bin/busybox' });
  entries.push({ name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' });
  entries.push({ name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n' });
  return buildTar(entries);
}
