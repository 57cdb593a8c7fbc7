/**
 * What `docker ps` says of each container state, `docker diff`, and bind mounts, through the real
 * docker CLI (and berth's own where it prints the same), on berthd.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');
const skip = ready ? false : 'needs root, the docker CLI, conmon and runc';

/** Polls until `check` holds (at most `ms`); false if it never did. */
async function until(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return false;
}

/** `ps -a` rows of the containers named with `prefix`, as name -> "State|Status". */
function rowsOf(stdout: string, prefix: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of stdout.split('\n').filter((l) => l.startsWith(prefix))) {
    const [name = '', ...rest] = line.split('|');
    rows.set(name, rest.join('|'));
  }
  return rows;
}

const AGE = '(Less than a second|1 second|\\d+ seconds|About a minute)';

describe('docker ps: each state\'s STATE and STATUS, and the status filter', { skip }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  const state = async (name: string) => JSON.parse((await run('inspect', name)).stdout)[0] as { RestartCount: number; State: { Status: string; Health?: { Status: string } } };
  before(async () => {
    daemon = await startBusyboxDaemon();
    const made = [
      await run('create', '--name', 'st-created', 'busybox', 'true'),
      await run('run', '-d', '--name', 'st-running', 'busybox', 'sleep', '1000'),
      await run('run', '-d', '--name', 'st-paused', 'busybox', 'sleep', '1000'),
      await run('pause', 'st-paused'),
      await run('run', '-d', '--name', 'st-restarting', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 4'),
      await run('run', '-d', '--name', 'st-healthy', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000'),
      await run('run', '-d', '--name', 'st-unhealthy', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '1000'),
      await run('run', '-d', '--name', 'st-starting', '--health-cmd', 'true', '--health-interval', '1h', '--health-start-period', '1h', 'busybox', 'sleep', '1000'),
    ];
    for (const r of made) assert.equal(r.code, 0, r.stderr);
    assert.equal((await run('run', '--name', 'st-exited', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
    assert.ok(await until(async () => (await state('st-healthy')).State.Health?.Status === 'healthy'), 'st-healthy became healthy');
    assert.ok(await until(async () => (await state('st-unhealthy')).State.Health?.Status === 'unhealthy'), 'st-unhealthy became unhealthy');
    // Between two tries the backoff keeps it "restarting" most of the time.
    assert.ok(await until(async () => (await state('st-restarting')).RestartCount >= 2), 'st-restarting restarted');
  });
  after(async () => {
    await daemon?.cleanup();
  });

  const expected: Record<string, RegExp> = {
    'st-created': /^created\|Created$/,
    'st-running': new RegExp(`^running\\|Up ${AGE}$`),
    'st-paused': new RegExp(`^paused\\|Up ${AGE} \\(Paused\\)$`),
    'st-exited': new RegExp(`^exited\\|Exited \\(3\\) ${AGE} ago$`),
    'st-restarting': new RegExp(`^restarting\\|Restarting \\(4\\) ${AGE} ago$`),
    'st-healthy': new RegExp(`^running\\|Up ${AGE} \\(healthy\\)$`),
    'st-unhealthy': new RegExp(`^running\\|Up ${AGE} \\(unhealthy\\)$`),
    'st-starting': new RegExp(`^running\\|Up ${AGE} \\(health: starting\\)$`),
  };

  for (const [client, cli] of [['docker', docker], ['berth', berth]] as const) {
    test(`${client} ps -a shows each state as Docker does`, async () => {
      const seen = new Map<string, string>();
      // The restarting one is "running" for the moments between its tries: wait for a listing that catches it restarting.
      assert.ok(await until(async () => {
        const r = await cli(daemon.host, ['ps', '-a', '--format', '{{.Names}}|{{.State}}|{{.Status}}']);
        assert.equal(r.code, 0, r.stderr);
        for (const [name, row] of rowsOf(r.stdout, 'st-')) seen.set(name, row);
        return expected['st-restarting']!.test(seen.get('st-restarting') ?? '');
      }), `st-restarting was never listed restarting: ${seen.get('st-restarting')}`);
      for (const [name, pattern] of Object.entries(expected)) assert.match(seen.get(name) ?? '<missing>', pattern, name);
    });
  }

  test('docker ps without -a lists running, paused and restarting containers, not created or exited ones', async () => {
    const r = await run('ps', '--format', '{{.Names}}');
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.split('\n').filter((n) => n.startsWith('st-')).sort();
    assert.deepEqual(names, ['st-healthy', 'st-paused', 'st-restarting', 'st-running', 'st-starting', 'st-unhealthy']);
  });

  test('the status filter selects every state (and implies -a); an unknown state is refused', async () => {
    const byStatus = async (status: string) => {
      const r = await run('ps', '--filter', `status=${status}`, '--format', '{{.Names}}');
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter((n) => n.startsWith('st-')).sort();
    };
    assert.deepEqual(await byStatus('created'), ['st-created']);
    assert.deepEqual(await byStatus('paused'), ['st-paused']);
    assert.deepEqual(await byStatus('exited'), ['st-exited']);
    assert.deepEqual(await byStatus('removing'), []);
    assert.deepEqual(await byStatus('dead'), []);
    assert.ok((await byStatus('running')).includes('st-running'));
    assert.ok(!(await byStatus('running')).includes('st-paused'));
    assert.ok(await until(async () => (await byStatus('restarting')).includes('st-restarting')), 'status=restarting lists st-restarting');
    const bad = await run('ps', '--filter', 'status=sleeping');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), `Error response from daemon: invalid filter 'status=sleeping'`);
    const badCode = await run('ps', '-a', '--filter', 'exited=three');
    assert.equal(badCode.code, 1);
    assert.match(badCode.stderr, /invalid filter 'exited=three'/);
    assert.deepEqual((await run('ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}')).stdout.split('\n').filter((n) => n.startsWith('st-')), ['st-exited']);
  });
});

describe('docker diff', { skip }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('a container with no changes prints nothing and exits 0 (created, stopped, running)', async () => {
    assert.equal((await run('create', '--name', 'diff-created', 'busybox', 'true')).code, 0);
    assert.equal((await run('run', '--name', 'diff-stopped', 'busybox', 'true')).code, 0);
    assert.equal((await run('run', '-d', '--name', 'diff-running', 'busybox', 'sleep', '1000')).code, 0);
    for (const name of ['diff-created', 'diff-stopped', 'diff-running']) {
      for (const cli of [docker, berth]) {
        const r = await cli(daemon.host, ['diff', name]);
        assert.deepEqual(r, { code: 0, stdout: '', stderr: '' }, name);
      }
      // moby's answer: its nil slice, encoded as JSON null.
      const answer = await daemon.request('GET', `/containers/${name}/changes`);
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      assert.equal(answer.body.trim(), 'null');
    }
    await run('rm', '-f', 'diff-running');
  });

  test('adds, changes and deletes show as A, C and D, stopped or running', async () => {
    const script = 'rm /etc/passwd && echo x >> /etc/group && mkdir /newdir && echo new > /newdir/file';
    const expected = 'C /etc\nC /etc/group\nD /etc/passwd\nA /newdir\nA /newdir/file\n';
    assert.equal((await run('run', '--name', 'diff-changed', 'busybox', 'sh', '-c', script)).code, 0);
    for (const cli of [docker, berth]) assert.deepEqual(await cli(daemon.host, ['diff', 'diff-changed']), { code: 0, stdout: expected, stderr: '' });
    assert.equal((await run('run', '-d', '--name', 'diff-live', 'busybox', 'sh', '-c', `${script} && touch /ready && sleep 1000`)).code, 0);
    assert.ok(await until(async () => (await run('exec', 'diff-live', 'test', '-e', '/ready')).code === 0), 'the running container made its changes');
    const live = await run('diff', 'diff-live');
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.stdout, `${expected}A /ready\n`);
    await run('rm', '-f', 'diff-live');
  });

  test('a directory removed and made again shows D, its new files A, as Docker\'s overlay diff', async () => {
    assert.equal((await run('run', '--name', 'diff-base', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && touch /data/old /data/sub/deep')).code, 0);
    assert.equal((await run('commit', 'diff-base', 'diff-base:latest')).code, 0);
    assert.equal((await run('run', '--name', 'diff-remade', 'diff-base', 'sh', '-c', 'rm -rf /data && mkdir /data && touch /data/new')).code, 0);
    assert.deepEqual(await run('diff', 'diff-remade'), { code: 0, stdout: 'D /data\nA /data/new\n', stderr: '' });
  });

  test('diff of a removed container is Docker\'s 404', async () => {
    assert.equal((await run('create', '--name', 'diff-gone', 'busybox', 'true')).code, 0);
    assert.equal((await run('rm', 'diff-gone')).code, 0);
    const r = await run('diff', 'diff-gone');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'Error response from daemon: No such container: diff-gone');
  });
});

describe('bind mounts', { skip }, () => {
  let daemon: TestDaemon;
  let hostDir: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
    hostDir = join(daemon.root, 'binds');
    await mkdir(join(hostDir, 'dir'), { recursive: true });
    await writeFile(join(hostDir, 'file.txt'), 'from host\n');
    await writeFile(join(hostDir, 'dir', 'inside'), 'in dir\n');
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('-v of an existing host file binds the file, read and written through', async () => {
    const file = join(hostDir, 'file.txt');
    const r = await run('run', '--rm', '-v', `${file}:/file.txt`, 'busybox', 'sh', '-c', 'cat /file.txt && echo appended >> /file.txt');
    assert.deepEqual(r, { code: 0, stdout: 'from host\n', stderr: '' });
    assert.equal(await readFile(file, 'utf8'), 'from host\nappended\n');
    // Onto a path whose directory the image lacks: the target is made inside the rootfs.
    const deep = await run('run', '--rm', '-v', `${file}:/opt/new/place.txt`, 'busybox', 'cat', '/opt/new/place.txt');
    assert.deepEqual(deep, { code: 0, stdout: 'from host\nappended\n', stderr: '' });
    await writeFile(file, 'from host\n');
    // berth's own CLI takes the same flag.
    assert.equal((await berth(daemon.host, ['run', '--rm', '-v', `${file}:/f`, 'busybox', 'cat', '/f'])).stdout, 'from host\n');
  });

  test(':ro and readonly binds refuse writes with EROFS, files and directories alike', async () => {
    const file = join(hostDir, 'file.txt');
    for (const args of [['-v', `${file}:/f:ro`], ['--mount', `type=bind,source=${file},target=/f,readonly`]]) {
      const r = await run('run', '--rm', ...args, 'busybox', 'sh', '-c', 'cat /f; echo no >> /f');
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, 'from host\n');
      assert.match(r.stderr, /Read-only file system/);
    }
    const dir = await run('run', '--rm', '--mount', `type=bind,source=${join(hostDir, 'dir')},target=/d,readonly`, 'busybox', 'touch', '/d/new');
    assert.notEqual(dir.code, 0);
    assert.match(dir.stderr, /Read-only file system/);
    assert.equal(await readFile(file, 'utf8'), 'from host\n');
    assert.ok(!existsSync(join(hostDir, 'dir', 'new')));
  });

  test('-v of a missing host path creates a directory; --mount type=bind refuses with Docker\'s message', async () => {
    const created = join(hostDir, 'made', 'by', 'v');
    const r = await run('run', '--rm', '-v', `${created}:/m`, 'busybox', 'sh', '-c', 'test -d /m && echo dir');
    assert.deepEqual(r, { code: 0, stdout: 'dir\n', stderr: '' });
    assert.ok((await stat(created)).isDirectory());
    const missing = join(hostDir, 'nope');
    const refused = await run('run', '--rm', '--mount', `type=bind,source=${missing},target=/m`, 'busybox', 'true');
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, new RegExp(`^docker: Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ${missing}\\n`));
    assert.ok(!existsSync(missing));
  });

  test(':z/:Z are accepted; Mode, RW and Propagation show in inspect as Docker\'s', async () => {
    const dir = join(hostDir, 'dir');
    for (const label of ['z', 'Z']) assert.equal((await run('run', '--rm', '-v', `${dir}:/d:${label}`, 'busybox', 'cat', '/d/inside')).stdout, 'in dir\n', label);
    const id = (await run('create', '-v', `${dir}:/d:Z,ro`, '--mount', `type=bind,source=${join(hostDir, 'file.txt')},target=/f,bind-propagation=rslave`, 'busybox', 'true')).stdout.trim();
    const mounts = JSON.parse((await run('inspect', '-f', '{{json .Mounts}}', id)).stdout) as unknown[];
    assert.deepEqual(mounts, [
      { Type: 'bind', Source: dir, Destination: '/d', Mode: 'Z,ro', RW: false, Propagation: 'rprivate' },
      { Type: 'bind', Source: join(hostDir, 'file.txt'), Destination: '/f', Mode: '', RW: true, Propagation: 'rslave' },
    ]);
    await run('rm', id);
  });

  test('bind-propagation: shared and slave need such a host mount (Docker\'s refusal), and then propagate', async () => {
    // Mounts of the test's own, so the host's propagation (private here, shared under systemd) does not decide.
    const privateDir = join(hostDir, 'private-mount');
    const sharedDir = join(hostDir, 'shared-mount');
    const mount = (...args: string[]) => assert.equal(spawnSync('mount', args, { stdio: 'ignore' }).status, 0, `mount ${args.join(' ')}`);
    await mkdir(privateDir);
    await mkdir(join(sharedDir, 'sub'), { recursive: true });
    await mkdir(join(sharedDir, 'late'));
    try {
      mount('--bind', privateDir, privateDir);
      mount('--make-private', privateDir);
      mount('--bind', sharedDir, sharedDir);
      mount('--make-shared', sharedDir);
      for (const propagation of ['private', 'rprivate']) {
        assert.equal((await run('run', '--rm', '--mount', `type=bind,source=${privateDir},target=/d,bind-propagation=${propagation}`, 'busybox', 'true')).code, 0, propagation);
      }
      for (const [propagation, kind] of [['shared', 'shared'], ['rshared', 'shared'], ['slave', 'shared or slave'], ['rslave', 'shared or slave']]) {
        const r = await run('run', '--rm', '--mount', `type=bind,source=${privateDir},target=/d,bind-propagation=${propagation}`, 'busybox', 'true');
        assert.notEqual(r.code, 0, propagation);
        assert.match(r.stderr, new RegExp(`Error response from daemon: path ${privateDir} is mounted on ${privateDir} but it is not a ${kind} mount`), propagation);
      }
      // rshared: a mount made in the container shows on the host.
      const shared = await run('run', '--rm', '--privileged', '--mount', `type=bind,source=${sharedDir},target=/d,bind-propagation=rshared`, 'busybox', 'sh', '-c', 'mount -t tmpfs tmpfs /d/sub && echo from-container > /d/sub/made');
      assert.equal(shared.code, 0, shared.stderr);
      assert.equal(await readFile(join(sharedDir, 'sub', 'made'), 'utf8'), 'from-container\n');
      // rslave: a mount made on the host after the start shows in the container.
      const slave = await run('run', '-d', '--name', 'bind-slave', '--mount', `type=bind,source=${sharedDir},target=/d,bind-propagation=rslave`, 'busybox', 'sleep', '1000');
      assert.equal(slave.code, 0, slave.stderr);
      mount('-t', 'tmpfs', 'tmpfs', join(sharedDir, 'late'));
      await writeFile(join(sharedDir, 'late', 'flag'), 'from-host\n');
      assert.equal((await run('exec', 'bind-slave', 'cat', '/d/late/flag')).stdout, 'from-host\n');
    } finally {
      await run('rm', '-f', 'bind-slave');
      for (const path of [join(sharedDir, 'late'), join(sharedDir, 'sub'), sharedDir, privateDir]) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
    }
  });

  test('a bind onto a path that is a symlink in the image resolves inside the rootfs', async () => {
    const outside = join(tmpdir(), `berth-bind-escape-${randomBytes(6).toString('hex')}`);
    try {
      const make = await run('run', '--name', 'bind-links', 'busybox', 'sh', '-c', `ln -s /../../../../..${outside} /evil-file && ln -s ../../../../..${outside}-dir /evil-dir`);
      assert.equal(make.code, 0, make.stderr);
      assert.equal((await run('commit', 'bind-links', 'bind-links:latest')).code, 0);
      const file = await run('run', '--rm', '-v', `${join(hostDir, 'file.txt')}:/evil-file`, 'bind-links', 'cat', outside);
      assert.deepEqual(file, { code: 0, stdout: 'from host\n', stderr: '' });
      const dir = await run('run', '--rm', '-v', `${join(hostDir, 'dir')}:/evil-dir/sub`, 'bind-links', 'cat', `${outside}-dir/sub/inside`);
      assert.deepEqual(dir, { code: 0, stdout: 'in dir\n', stderr: '' });
      assert.ok(!existsSync(outside), 'nothing made on the host');
      assert.ok(!existsSync(`${outside}-dir`), 'nothing made on the host');
    } finally {
      await rm(outside, { recursive: true, force: true });
      await rm(`${outside}-dir`, { recursive: true, force: true });
    }
  });
});
