/**
 * `berthd --group G` with the socket in the exec root (as /run/berth/berth.sock is by default): a
 * member of G reaches the API, another user does not, and the exec root is not listable. The
 * group and users are throwaway system accounts this test creates and removes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeTempRoot, startBerthd } from '../helpers/berthd.js';

const isRoot = process.getuid?.() === 0;

/** A user's uid or primary gid (`id`), or a group's gid (`getent group`). */
function idOf(flag: '-u' | '-g' | 'group', name: string): number {
  const r = flag === 'group' ? spawnSync('getent', ['group', name], { encoding: 'utf8' }) : spawnSync('id', [flag, name], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(flag === 'group' ? r.stdout.split(':')[2] : r.stdout.trim());
}

/** GET /_ping on `socket` from a process running as uid:gid (its only group); returns the status or the errno. */
function pingAs(uid: number, gid: number, socket: string): string {
  const script = `require('node:http').get({ socketPath: ${JSON.stringify(socket)}, path: '/_ping' }, (r) => { console.log(r.statusCode); r.resume(); }).on('error', (e) => console.log(e.code));`;
  const r = spawnSync(process.execPath, ['-e', script], { uid, gid, encoding: 'utf8', cwd: '/' });
  return r.stdout.trim() || r.stderr;
}

test('--group: the socket in the exec root is 0660 root:group and reachable by the group only; the exec root is not listable', { skip: isRoot ? false : 'needs root to make users and groups', timeout: 60_000 }, async (t) => {
  const suffix = randomBytes(3).toString('hex');
  const group = `berthsg${suffix}`;
  const member = `berthsm${suffix}`;
  const outsider = `berthso${suffix}`;
  t.after(() => {
    spawnSync('userdel', [member]);
    spawnSync('userdel', [outsider]);
    spawnSync('groupdel', [group]);
  });
  assert.equal(spawnSync('groupadd', ['--system', group]).status, 0);
  assert.equal(spawnSync('useradd', ['--system', '--no-create-home', '--gid', group, '--shell', '/usr/sbin/nologin', member]).status, 0);
  assert.equal(spawnSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', outsider]).status, 0);

  // The layout of /run/berth: a world-traversable parent, the exec root, the socket inside it.
  const root = await makeTempRoot('berth-group-');
  await chmod(root, 0o755);
  const execRoot = join(root, 'run');
  await mkdir(execRoot, { mode: 0o700 }); // as an earlier berthd left it
  const socket = join(execRoot, 'berth.sock');
  const daemon = await startBerthd({ root, extraArgs: ['--group', group, '-H', `unix://${socket}`] });
  t.after(() => daemon.cleanup());

  const info = await stat(socket);
  assert.equal(info.mode & 0o777, 0o660);
  assert.equal(info.uid, 0);
  assert.equal(info.gid, idOf('group', group));
  assert.equal((await stat(execRoot)).mode & 0o777, 0o711, 'traversable, not listable');
  assert.equal((await stat(join(execRoot, 'containers'))).mode & 0o777, 0o700);

  assert.equal(pingAs(idOf('-u', member), idOf('-g', member), socket), '200', 'a member of the group reaches the API');
  assert.equal(pingAs(idOf('-u', outsider), idOf('-g', outsider), socket), 'EACCES', 'another user is refused');
  const listing = spawnSync('ls', [execRoot], { uid: idOf('-u', member), gid: idOf('-g', member), encoding: 'utf8' });
  assert.notEqual(listing.status, 0, 'the exec root cannot be listed');
});
