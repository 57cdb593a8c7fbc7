/** Volumes and mounts through the real docker CLI and berth's, on berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('volumes and mounts on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'busybox', changes: ['CMD ["sh"]'] }, { tag: 'withvolume', changes: ['VOLUME /etc'] }]);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('a file written to -v data:/data by one container is read by the next', async () => {
    const write = await run('run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/file && sync');
    assert.equal(write.code, 0, write.stderr);
    assert.equal((await run('run', '--rm', '-v', 'data:/data', 'busybox', 'cat', '/data/file')).stdout, 'kept\n');
    const inspect = JSON.parse((await run('volume', 'inspect', 'data')).stdout)[0] as { Name: string; Driver: string; Mountpoint: string; Scope: string };
    assert.equal(inspect.Name, 'data');
    assert.equal(inspect.Driver, 'local');
    assert.equal(inspect.Scope, 'local');
    assert.equal(await readFile(join(inspect.Mountpoint, 'file'), 'utf8'), 'kept\n');
  });

  test('an empty named volume over an image directory starts with its files, owners and modes kept', async () => {
    const r = await run('run', '--rm', '-v', 'etc-copy:/etc', 'busybox', 'sh', '-c', 'ls /etc; stat -c "%u %a" /etc/passwd');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^group\npasswd\n0 644\n$/);
    const nocopy = await run('run', '--rm', '-v', 'etc-empty:/etc:nocopy', 'busybox', 'ls', '-A', '/etc');
    assert.equal(nocopy.stdout, '');
  });

  test('an image VOLUME gets an anonymous volume, listed in inspect\'s Mounts and removed by rm -v', async () => {
    const id = (await run('create', 'withvolume', 'true')).stdout.trim();
    const mounts = JSON.parse((await run('inspect', '-f', '{{json .Mounts}}', id)).stdout) as { Type: string; Name: string; Destination: string; RW: boolean }[];
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]!.Type, 'volume');
    assert.equal(mounts[0]!.Destination, '/etc');
    assert.match(mounts[0]!.Name, /^[0-9a-f]{64}$/);
    assert.match((await run('volume', 'ls', '-q')).stdout, new RegExp(mounts[0]!.Name));
    assert.equal((await run('rm', '-v', id)).code, 0);
    assert.doesNotMatch((await run('volume', 'ls', '-q')).stdout, new RegExp(mounts[0]!.Name));
    // run --rm takes its anonymous volumes with it; a named one stays.
    const before = (await run('volume', 'ls', '-q')).stdout;
    assert.equal((await run('run', '--rm', '-v', 'kept-by-rm:/named', 'withvolume', 'true')).code, 0);
    const after = (await run('volume', 'ls', '-q')).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(after, [...before.split('\n').filter(Boolean), 'kept-by-rm'].sort());
    await run('volume', 'rm', 'kept-by-rm');
  });

  test('bind mounts: :ro refuses writes, a missing -v source is created, a missing --mount source is an error', async () => {
    const host = join(daemon.root, 'host-dir');
    await mkdir(host);
    await writeFile(join(host, 'x'), 'from host\n');
    const ro = await run('run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/x; echo no > /h/y');
    assert.notEqual(ro.code, 0);
    assert.equal(ro.stdout, 'from host\n');
    assert.match(ro.stderr, /Read-only file system/);
    const created = join(daemon.root, 'made-by-v');
    assert.equal((await run('run', '--rm', '-v', `${created}:/m`, 'busybox', 'true')).code, 0);
    assert.ok(existsSync(created));
    const missing = await run('run', '--rm', '--mount', `type=bind,source=${join(daemon.root, 'nope')},target=/m`, 'busybox', 'true');
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
  });

  test('--tmpfs /run:size=1m refuses a 2 MB write', async () => {
    const r = await run('run', '--rm', '--tmpfs', '/run:size=1m', 'busybox', 'dd', 'if=/dev/zero', 'of=/run/big', 'bs=1M', 'count=2');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No space left on device/);
  });

  test('--volumes-from sees the other container\'s volumes; a volume in use cannot be removed and keeps its data', async () => {
    const holder = (await run('run', '-d', '-v', 'shared:/s', 'busybox', 'sh', '-c', 'echo held > /s/h; sync; sleep 300')).stdout.trim();
    try {
      let seen = '';
      for (let i = 0; i < 20 && seen !== 'held\n'; i++) seen = (await run('run', '--rm', '--volumes-from', `${holder}:ro`, 'busybox', 'cat', '/s/h')).stdout;
      assert.equal(seen, 'held\n');
      const refused = await run('volume', 'rm', 'shared');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /volume is in use/);
      assert.equal((await run('run', '--rm', '-v', 'shared:/s', 'busybox', 'cat', '/s/h')).stdout, 'held\n');
    } finally {
      await run('rm', '-f', holder);
    }
    assert.equal((await run('volume', 'rm', 'shared')).code, 0);
  });

  test('bad input: invalid names, relative bind paths, unknown --mount keys, volume-opt on a bind — 400 and nothing created', async () => {
    const before = (await run('volume', 'ls', '-q')).stdout;
    const badName = await daemon.request('POST', '/volumes/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Name: 'bad/name' }) });
    assert.equal(badName.status, 400);
    assert.match(badName.body, /includes invalid characters for a local volume name/);
    const relative = await daemon.request('POST', '/containers/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'bind', Source: 'rel/path', Target: '/x' }] } }) });
    assert.equal(relative.status, 400);
    assert.match(relative.body, /mount path must be absolute/);
    const volumeOpt = await daemon.request('POST', '/containers/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'volume', Source: 'fresh-a', Target: '/a' }, { Type: 'bind', Source: '/tmp', Target: '/x', VolumeOptions: { NoCopy: true } }] } }) });
    assert.equal(volumeOpt.status, 400);
    assert.match(volumeOpt.body, /field VolumeOptions must not be specified/);
    const unknownKey = await berth(daemon.host, ['run', '--rm', '--mount', 'type=bind,source=/tmp,target=/x,colour=blue', 'busybox', 'true']);
    assert.equal(unknownKey.code, 125);
    assert.match(unknownKey.stderr, /unexpected key 'colour'/);
    assert.equal((await run('volume', 'ls', '-q')).stdout, before, 'no volume was created by the refused requests');
  });

  test('a local volume with DriverOpts type=tmpfs is mounted while used, with its size limit', async () => {
    assert.equal((await run('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'small')).code, 0);
    const r = await run('run', '--rm', '-v', 'small:/t', 'busybox', 'dd', 'if=/dev/zero', 'of=/t/big', 'bs=1M', 'count=2');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No space left on device/);
    const mountpoint = JSON.parse((await run('volume', 'inspect', 'small')).stdout)[0].Mountpoint as string;
    assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${mountpoint} `), 'unmounted once no container runs with it');
    assert.equal((await run('volume', 'rm', 'small')).code, 0);
  });

  test('SIGKILL of the writer and of berthd loses nothing already synced to a volume', async () => {
    const id = (await run('run', '-d', '-v', 'journal:/v', 'busybox', 'sh', '-c', 'i=0; while true; do echo $i >> /v/log; sync; echo $i; i=$((i+1)); done')).stdout.trim();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await run('kill', id)).code, 0);
    const reported = (await run('logs', id)).stdout.trim().split('\n');
    daemon.process.kill('SIGKILL');
    await daemon.stop();
    daemon = await startBerthd({ root: daemon.root });
    const last = Number(reported[reported.length - 1]);
    assert.ok(last > 0, 'the writer ran');
    const kept = (await run('run', '--rm', '-v', 'journal:/v', 'busybox', 'cat', '/v/log')).stdout.trim().split('\n').map(Number);
    for (let i = 0; i <= last; i++) assert.equal(kept[i], i);
    await run('rm', '-f', id);
  });

  test('berth volume create/ls/inspect/rm/prune', async () => {
    assert.equal((await berth(daemon.host, ['volume', 'create', '--label', 'team=a', 'bvol'])).stdout, 'bvol\n');
    assert.match((await berth(daemon.host, ['volume', 'ls', '--filter', 'label=team=a'])).stdout, /^DRIVER +VOLUME NAME\nlocal +bvol\n$/);
    assert.equal((await berth(daemon.host, ['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'bvol'])).stdout, 'bvol local\n');
    const anonymous = (await run('create', '-v', '/anon', 'busybox', 'true')).stdout.trim();
    await run('rm', anonymous);
    const pruned = await berth(daemon.host, ['volume', 'prune', '-f']);
    assert.match(pruned.stdout, /Deleted Volumes:\n[0-9a-f]{64}\n/);
    assert.match((await berth(daemon.host, ['volume', 'ls', '-q'])).stdout, /^bvol$/m, 'prune keeps named volumes without --all');
    assert.equal((await berth(daemon.host, ['volume', 'rm', 'bvol'])).stdout, 'bvol\n');
  });
});
