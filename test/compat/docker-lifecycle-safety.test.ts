/**
 * Host escapes and races in the container lifecycle, driven by the real docker CLI: volume copy-up
 * through an image's symlinks, concurrent starts of one container, create racing rmi.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('container lifecycle safety on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let victim: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
    // A host directory standing in for /root: an image's link must never lead a copy-up here.
    victim = await mkdtemp(join(tmpdir(), 'berth-victim-'));
    await writeFile(join(victim, 'secret'), 'host secret\n');
  });
  after(async () => {
    await daemon?.cleanup();
    await rm(victim, { recursive: true, force: true });
  });

  test('volume copy-up resolves the image\'s links inside its root: a link to a host path copies nothing of the host', async () => {
    const made = await run('run', '--name', 'mk-evil', 'busybox', 'sh', '-c', `rm -rf /data; ln -s ${victim} /data`);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await run('commit', 'mk-evil', 'evil')).code, 0);
    const r = await run('run', '--rm', '-v', 'leak:/data', 'evil', 'ls', '-A', '/data');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'the volume must not hold the host directory\'s files');
    const mountpoint = (await run('volume', 'inspect', '-f', '{{.Mountpoint}}', 'leak')).stdout.trim();
    assert.deepEqual(await readdir(mountpoint), []);
  });

  test('volume copy-up follows a link that stays inside the image: /data -> /etc gets the image\'s /etc', async () => {
    assert.equal((await run('run', '--name', 'mk-inside', 'busybox', 'sh', '-c', 'rm -rf /data; ln -s /etc /data')).code, 0);
    assert.equal((await run('commit', 'mk-inside', 'inside')).code, 0);
    const r = await run('run', '--rm', '-v', 'etc-through-link:/data', 'inside', 'cat', '/data/passwd');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^root:/m);
  });

  test('two docker start of one container at once: one run, the other is told it is already started', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `twice-${round}`;
      assert.equal((await run('create', '--name', name, 'busybox', 'sh', '-c', 'echo started; exec sleep 1000')).code, 0);
      const [a, b] = await Promise.all([run('start', name), run('start', name)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const state = JSON.parse((await run('inspect', '-f', '{{json .State}}', name)).stdout) as { Status: string; Pid: number };
      assert.equal(state.Status, 'running');
      // Still the first run's process: the second start did not replace (or kill) it.
      assert.equal((await run('exec', name, 'cat', '/proc/1/cmdline')).stdout.replace(/\0/g, ' ').trim(), 'sleep 1000');
      const logs = await run('logs', name);
      assert.equal(logs.stdout, 'started\n');
      assert.equal((await run('rm', '-f', name)).code, 0);
    }
  });

  test('create racing rmi: the create either fails with "No such image" or gets a container that starts', async () => {
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'race.tar'));
    for (let round = 0; round < 6; round++) {
      const tag = `race-${round}`;
      // A fresh image each round (a changed config makes a new image ID over the same layer).
      assert.equal((await run('import', '-c', `ENV ROUND=${round}`, rootfs, tag)).code, 0);
      const [created, removed] = await Promise.all([run('create', '--pull', 'never', '--name', tag, tag, 'true'), run('rmi', tag)]);
      if (created.code === 0) {
        const started = await run('start', '-a', tag);
        assert.equal(started.code, 0, `round ${round}: create won (rmi: ${removed.stderr.trim() || 'ok'}), but start failed: ${started.stderr}`);
        await run('rm', '-f', tag);
        await run('rmi', '-f', tag);
      } else {
        assert.equal(removed.code, 0, removed.stderr);
        assert.match(created.stderr, /No such image|not found|Unable to find image/i);
      }
    }
  });
});
