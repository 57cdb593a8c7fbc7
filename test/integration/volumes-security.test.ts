/**
 * Volumes that cannot hurt the host: `volume rm` never deletes through a mount (a bind volume's
 * device is the user's own directory), and what containers write (setuid files in volumes, their
 * root filesystems) is out of reach of the host's other users, as with dockerd.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempRoot, startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('setpriv');

/** Mount points at or below `dir` in this process's mount table (octal escapes decoded). */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table.split('\n').map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Unmounts everything a failed test left under `dir`, deepest and most recent first. */
async function unmountAllUnder(dir: string): Promise<void> {
  for (let points = await mountsUnder(dir); points.length > 0; points = await mountsUnder(dir)) {
    const before = points.length;
    for (const point of points.reverse()) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
    if ((await mountsUnder(dir)).length >= before) break;
  }
}

/** `stat PATH` as the host's `nobody` user (uid and gid 65534, no supplementary groups). */
function statAsNobody(path: string): { code: number | null; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'stat', '-c', '%a', path], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

const mode = async (path: string) => ((await stat(path)).mode & 0o7777).toString(8);

describe('volumes and container roots on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc and setpriv' }, () => {
  let daemon: TestDaemon;
  let root: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  const inspectMountpoint = async (name: string) => (JSON.parse((await run('volume', 'inspect', name)).stdout) as { Mountpoint: string }[])[0]!.Mountpoint;

  before(async () => {
    root = await makeTempRoot();
    // Only berth's own directories may keep other users out: the test root is open, and the data
    // and exec roots exist already with the modes an older berth (or an administrator) left.
    await chmod(root, 0o755);
    for (const dir of ['data', 'data/volumes', 'data/overlay', 'data/overlay/snapshots', 'run', 'run/containers']) await mkdir(join(root, dir), { mode: 0o755 });
    daemon = await startBerthd({ root });
    const rootfs = makeBusyboxRootfs(join(root, 'busybox.tar'));
    const imported = await run('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(async () => {
    if (root) await unmountAllUnder(root);
    await daemon?.cleanup();
  });

  test('a setuid file a container wrote into its volume, and a container\'s root filesystem, are out of other users\' reach', async (t) => {
    assert.equal(statAsNobody(root).code, 0, 'the test root itself is open to nobody');
    const write = await run('run', '--rm', '-v', 'secrets:/data', 'busybox', 'sh', '-c', 'cp /bin/busybox /data/suid-sh && chmod 4755 /data/suid-sh && echo written > /data/note');
    assert.equal(write.code, 0, write.stderr);
    // Containers still use the volume, also as a non-root user.
    const read = await run('run', '--rm', '-u', '65534', '-v', 'secrets:/data', 'busybox', 'cat', '/data/note');
    assert.equal(read.stdout, 'written\n', read.stderr);
    const data = await inspectMountpoint('secrets');
    assert.equal(await mode(join(data, 'suid-sh')), '4755');
    for (const path of [join(data, 'suid-sh'), data]) {
      const asNobody = statAsNobody(path);
      assert.notEqual(asNobody.code, 0, `nobody reached ${path}`);
      assert.match(asNobody.stderr, /Permission denied/);
    }

    const id = (await run('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    t.after(() => run('rm', '-f', id));
    assert.match(id, /^[0-9a-f]{64}$/);
    const rootfsBin = join(daemon.execRoot, 'containers', id, 'rootfs', 'bin');
    const upper = join(daemon.dataRoot, 'overlay', 'snapshots', id, 'upper');
    for (const path of [rootfsBin, upper]) {
      assert.ok(existsSync(path), `${path} exists for root`);
      const asNobody = statAsNobody(path);
      assert.notEqual(asNobody.code, 0, `nobody reached ${path}`);
      assert.match(asNobody.stderr, /Permission denied/);
    }
    // As dockerd lays them out; the directories made before this berthd started were corrected.
    assert.equal(await mode(daemon.dataRoot), '710');
    assert.equal(await mode(join(daemon.dataRoot, 'volumes')), '701');
    assert.equal(await mode(join(daemon.dataRoot, 'volumes', 'secrets')), '700');
    assert.equal(await mode(data), '755');
    assert.equal(await mode(join(daemon.dataRoot, 'overlay')), '700');
    assert.equal(await mode(join(daemon.execRoot, 'containers')), '700');
  });

  test('volume rm of a bind volume whose device stays mounted (busy) is refused and the host files survive; later it goes, the files stay', async (t) => {
    const host = join(root, 'host-busy');
    await mkdir(host);
    await writeFile(join(host, 'keep.txt'), 'host data\n');
    assert.equal((await run('volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'bindbusy')).code, 0);
    const data = await inspectMountpoint('bindbusy');
    const started = await run('run', '-d', '--name', 'binduser', '-v', 'bindbusy:/data', 'busybox', 'sleep', '300');
    assert.equal(started.code, 0, started.stderr);
    t.after(() => run('rm', '-f', 'binduser'));
    assert.deepEqual(await mountsUnder(data), [data]);
    // A host process working in the volume keeps its mount busy: umount fails with "target is busy".
    const holder = spawn('sleep', ['300'], { cwd: data, stdio: 'ignore' });
    const holderGone = new Promise((resolve) => holder.once('exit', resolve));
    t.after(async () => {
      if (holder.exitCode === null) holder.kill('SIGKILL');
      await holderGone;
    });
    assert.equal((await run('rm', '-f', 'binduser')).code, 0);
    assert.deepEqual(await mountsUnder(data), [data]);

    const refused = await run('volume', 'rm', 'bindbusy');
    assert.deepEqual(await readdir(host), ['keep.txt']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /remove bindbusy: volume is in use - .*bindbusy\/_data is still mounted \(.*busy.*\)/);
    const pruned = await run('volume', 'prune', '--all', '--force');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.doesNotMatch(pruned.stdout, /bindbusy/);
    assert.equal(await readFile(join(host, 'keep.txt'), 'utf8'), 'host data\n');
    assert.match((await run('volume', 'ls', '-q')).stdout, /^bindbusy$/m);

    holder.kill('SIGKILL');
    await holderGone;
    const removed = await run('volume', 'rm', 'bindbusy');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await mountsUnder(data), []);
    assert.equal(existsSync(join(daemon.dataRoot, 'volumes', 'bindbusy')), false);
    assert.deepEqual(await readdir(host), ['keep.txt']);
    assert.equal(await readFile(join(host, 'keep.txt'), 'utf8'), 'host data\n');
  });

  test('volume rm refuses while a mount is left after one umount (a mount stacked on the device), and deletes nothing', async (t) => {
    const host = join(root, 'host-stacked');
    await mkdir(host);
    await writeFile(join(host, 'keep.txt'), 'stacked\n');
    assert.equal((await run('volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'bindstacked')).code, 0);
    const data = await inspectMountpoint('bindstacked');
    t.after(() => unmountAllUnder(data));
    for (let i = 0; i < 2; i++) assert.equal(spawnSync('mount', ['--bind', host, data]).status, 0);

    const refused = await run('volume', 'rm', 'bindstacked');
    assert.equal(await readFile(join(host, 'keep.txt'), 'utf8'), 'stacked\n');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /remove bindstacked: volume is in use - .*bindstacked\/_data is still mounted/);
    // One umount took one mount; the other is still there, and the volume with it.
    assert.deepEqual(await mountsUnder(data), [data]);
    assert.match((await run('volume', 'ls', '-q')).stdout, /^bindstacked$/m);
  });

  test('volume rm of an unmounted bind volume leaves the device directory and its files', async () => {
    const host = join(root, 'host-plain');
    await mkdir(host);
    await writeFile(join(host, 'before.txt'), 'before\n');
    assert.equal((await run('volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'bindplain')).code, 0);
    const write = await run('run', '--rm', '-v', 'bindplain:/data', 'busybox', 'sh', '-c', 'echo from container > /data/written.txt');
    assert.equal(write.code, 0, write.stderr);
    const removed = await run('volume', 'rm', 'bindplain');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual((await readdir(host)).sort(), ['before.txt', 'written.txt']);
    assert.equal(await readFile(join(host, 'written.txt'), 'utf8'), 'from container\n');
  });
});
