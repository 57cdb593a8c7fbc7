import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUserFile, resolveUser, USER_FILE_LIMIT } from './user-database.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n# a comment\napp:x:1000:1000:App:/home/app:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nstaff:x:50:app\napp:x:1000:\nwheel:x:10:root,app\n';

describe('user database', () => {
  let dir: string;
  /** A fresh rootfs with an /etc directory; files written with `files`. */
  const rootfs = (name: string, files: Record<string, string> = {}) => {
    const root = join(dir, name);
    mkdirSync(join(root, 'etc'), { recursive: true });
    for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
    return root;
  };
  /** A host file outside every rootfs that names a user the image does not have. */
  let hostPasswd: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-user-db-'));
    hostPasswd = join(dir, 'host-passwd');
    writeFileSync(hostPasswd, 'hostuser:x:4242:4343:Host:/host-home:/bin/sh\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('names, uids and groups resolve as Docker resolves them', async () => {
    const root = rootfs('plain', { 'etc/passwd': PASSWD, 'etc/group': GROUP });
    assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
    assert.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [50, 10], home: '/home/app' });
    assert.deepEqual(await resolveUser(root, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [10], home: '/home/app' });
    assert.deepEqual(await resolveUser(root, '1000:7'), { uid: 1000, gid: 7, additionalGids: [50, 10], home: '/home/app' });
    assert.deepEqual(await resolveUser(root, '4000'), { uid: 4000, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(root, 'nobody', ['wheel', '99']), { uid: 65534, gid: 65534, additionalGids: [10, 99], home: '/nonexistent' });
    await assert.rejects(resolveUser(root, 'ghost'), /^InvalidArgumentError: unable to find user ghost: no matching entries in passwd file$/);
    await assert.rejects(resolveUser(root, 'app:ghosts'), /unable to find group ghosts: no matching entries in group file$/);
    await assert.rejects(resolveUser(root, 'app', ['ghosts']), /Unable to find group ghosts: no matching entries in group file$/);
  });

  test('without /etc/passwd, numeric users work and names are not found', async () => {
    const root = rootfs('empty');
    assert.deepEqual(await resolveUser(root, '123:456'), { uid: 123, gid: 456, additionalGids: [], home: '/' });
    await assert.rejects(resolveUser(root, 'app'), /unable to find user app: no matching entries in passwd file$/);
  });

  test('a link to a host file is resolved inside the root: the host file is never read', async () => {
    const absolute = rootfs('absolute-link');
    symlinkSync(hostPasswd, join(absolute, 'etc', 'passwd'));
    const climbing = rootfs('climbing-link');
    symlinkSync(`../../../../../../../..${hostPasswd}`, join(climbing, 'etc', 'passwd'));
    const throughDir = rootfs('dir-link');
    rmSync(join(throughDir, 'etc'), { recursive: true });
    symlinkSync(dir, join(throughDir, 'etc')); // /etc -> the host directory holding a "passwd"
    writeFileSync(join(dir, 'passwd'), 'hostuser:x:4242:4343::/:/bin/sh\n');
    for (const root of [absolute, climbing, throughDir]) {
      await assert.rejects(resolveUser(root, 'hostuser'), /unable to find user hostuser: no matching entries in passwd file$/, root);
      assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' }, 'the host entry gives no gid');
    }
  });

  test('a link inside the root is followed there', async () => {
    const root = rootfs('inner-link', { 'etc/passwd.real': PASSWD });
    symlinkSync('/etc/passwd.real', join(root, 'etc', 'passwd'));
    assert.equal((await resolveUser(root, 'app')).uid, 1000);
  });

  test('a FIFO is refused at once, not waited on', async () => {
    const root = rootfs('fifo', { 'etc/group': GROUP });
    execFileSync('mkfifo', [join(root, 'etc', 'passwd')]);
    assert.deepEqual(await readUserFile(root, '/etc/passwd'), { entries: [], refused: 'not a regular file' });
    await assert.rejects(resolveUser(root, 'app'), /^InvalidArgumentError: unable to find user app: no matching entries in passwd file \(\/etc\/passwd not a regular file\)$/);
    assert.equal((await resolveUser(root, '')).uid, 0, 'the default user still starts');
  });

  test('a link to /dev/zero names the image\'s own /dev/zero, which it lacks', async () => {
    const root = rootfs('zero');
    symlinkSync('/dev/zero', join(root, 'etc', 'passwd'));
    assert.deepEqual(await readUserFile(root, '/etc/passwd'), { entries: [] });
    await assert.rejects(resolveUser(root, 'app'), /no matching entries in passwd file$/);
  });

  test('a device node in the image is refused', { skip: process.getuid?.() === 0 ? false : 'mknod needs root' }, async () => {
    const root = rootfs('device');
    mkdirSync(join(root, 'dev'));
    execFileSync('mknod', [join(root, 'dev', 'zero'), 'c', '1', '5']);
    symlinkSync('/dev/zero', join(root, 'etc', 'passwd'));
    assert.deepEqual(await readUserFile(root, '/etc/passwd'), { entries: [], refused: 'not a regular file' });
  });

  test('a file over 1 MiB is refused; one of exactly 1 MiB is read', async () => {
    const line = 'app:x:1000:1000::/home/app:/bin/sh\n';
    const big = rootfs('big', { 'etc/passwd': line + '#'.repeat(USER_FILE_LIMIT) });
    assert.deepEqual(await readUserFile(big, '/etc/passwd'), { entries: [], refused: 'larger than 1 MiB' });
    await assert.rejects(resolveUser(big, 'app'), /\(\/etc\/passwd larger than 1 MiB\)$/);
    const limit = rootfs('limit', { 'etc/passwd': line + '#'.repeat(USER_FILE_LIMIT - line.length - 1) + '\n' });
    assert.equal((await resolveUser(limit, 'app')).uid, 1000);
  });

  test('a link loop is refused', async () => {
    const root = rootfs('loop');
    symlinkSync('/etc/passwd', join(root, 'etc', 'passwd'));
    assert.deepEqual(await readUserFile(root, '/etc/passwd'), { entries: [], refused: 'too many levels of symbolic links' });
  });
});
