/**
 * The image's /etc/passwd and /etc/group, read as the container will see them and never as the
 * host would: the path is resolved inside the root (a link to "/etc/shadow" names the image's own),
 * only a regular file is read (a FIFO would block a thread for good), and at most 1 MiB of it
 * (/dev/zero would never end). A file refused for one of these reasons reads as no entries, as
 * runc treats a passwd file it cannot open; a name looked up in it says why it was refused.
 * Users resolve from it for run -u, exec -u, docker cp -a and the builder's COPY --chown.
 */
import { constants } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';
import { MissingParentError, NotADirectoryComponentError, RootedFilesystem, TooManyLinksError } from '../archive/rooted-path.js';

/** passwd and group files larger than this are refused (a million bytes is ~15,000 users). */
export const USER_FILE_LIMIT = 1024 * 1024;

export interface UserFile {
  /** The file's lines split at ":", comments and empty lines left out. */
  entries: string[][];
  /** Why the file was not read, when it exists but is not a regular file of at most 1 MiB in the root. */
  refused?: string;
}

const NO_FILE: UserFile = { entries: [] };

/** Reads `path` (e.g. "/etc/passwd") inside the rootfs at `root`; a missing file has no entries. */
export async function readUserFile(root: string, path: string): Promise<UserFile> {
  const fs = new RootedFilesystem(root);
  const resolved = await fs.resolve(path, { followLast: true }).catch((err: unknown) => {
    if (err instanceof TooManyLinksError) return 'too many levels of symbolic links';
    if (err instanceof MissingParentError || err instanceof NotADirectoryComponentError) return undefined;
    throw err;
  });
  if (typeof resolved === 'string') return { entries: [], refused: resolved };
  if (!resolved?.stats) return NO_FILE;
  if (!resolved.stats.isFile()) return { entries: [], refused: 'not a regular file' };
  // O_NONBLOCK: should a FIFO have taken the file's place since the lstat, opening it does not wait.
  const handle = await open(resolved.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') return 'replaced by a symbolic link while read';
    return undefined; // unreadable: as if absent
  });
  if (typeof handle === 'string') return { entries: [], refused: handle };
  if (!handle) return NO_FILE;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { entries: [], refused: 'not a regular file' };
    if (stats.size > USER_FILE_LIMIT) return { entries: [], refused: 'larger than 1 MiB' };
    // The kernel's own name for what was opened: a directory swapped for a link on the way shows here.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`);
    if (opened !== posix.join(await realpath(root), resolved.containerPath)) return { entries: [], refused: 'outside the container\'s root' };
    const buffer = Buffer.alloc(USER_FILE_LIMIT + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > USER_FILE_LIMIT) return { entries: [], refused: 'larger than 1 MiB' };
    const lines = buffer.subarray(0, length).toString('utf8').split('\n');
    return { entries: lines.filter((l) => l && !l.startsWith('#')).map((l) => l.split(':')) };
  } finally {
    await handle.close();
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Docker's "no matching entries" message, with the reason when the file was refused. */
function noMatch(what: 'user' | 'group' | 'Group', name: string, file: 'passwd' | 'group', read: UserFile): InvalidArgumentError {
  const reason = read.refused ? ` (/etc/${file} ${read.refused})` : '';
  const kind = what === 'Group' ? 'Unable to find group' : `unable to find ${what}`;
  return new InvalidArgumentError(`${kind} ${name}: no matching entries in ${file} file${reason}`);
}

/** Resolves "name", "uid", "name:group", "uid:gid" against the rootfs, as Docker does. */
export async function resolveUser(rootfs: string, user: string, groupAdd: readonly string[] = []): Promise<{ uid: number; gid: number; additionalGids: number[]; home: string }> {
  const passwdFile = await readUserFile(rootfs, '/etc/passwd');
  const groupFile = await readUserFile(rootfs, '/etc/group');
  const passwd: PasswdEntry[] = passwdFile.entries.map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
  const groups: GroupEntry[] = groupFile.entries.map((f) => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
  const [userPart = '', groupPart] = user.split(':');
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  if (userPart === '') {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name ?? 'root';
    home = root?.home ?? '/root';
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
    home = entry?.home ?? '/';
    name = entry?.name ?? '';
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw noMatch('user', userPart, 'passwd', passwdFile);
    ({ uid, gid, home, name } = entry);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group) throw noMatch('group', groupPart, 'group', groupFile);
      gid = group.gid;
    }
  }
  const additional = new Set<number>(name ? groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid) : []);
  for (const extra of groupAdd) {
    if (/^\d+$/.test(extra)) additional.add(Number(extra));
    else {
      const group = groups.find((g) => g.name === extra);
      if (!group) throw noMatch('Group', extra, 'group', groupFile);
      additional.add(group.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional], home };
}
