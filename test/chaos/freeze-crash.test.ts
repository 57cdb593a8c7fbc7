/**
 * berth freezes a running container for `docker commit` (paused by default) and for `docker cp`.
 * berthd SIGKILLed while that freeze is held must not leave the container Paused for good: the
 * restarted daemon thaws what it froze itself, and a pause the user asked for stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');
const skip = ready ? false : 'needs root, the docker CLI, conmon and runc';

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The kernel's view of the container's freeze (cgroup v1 freezer): FROZEN, FREEZING or THAWED. */
function freezerState(daemon: TestDaemon, id: string): Promise<string> {
  const path = join('/sys/fs/cgroup/freezer', `berth-test-${basename(daemon.root)}`, id, 'freezer.state');
  return readFile(path, 'utf8').then((s) => s.trim(), () => 'none');
}

/**
 * PUT /containers/{id}/archive whose tar body never ends: berthd holds the container frozen for
 * the copy until the body is complete, so the freeze lasts as long as the test wants.
 */
function hangingCopyInto(daemon: TestDaemon, id: string): { settled: Promise<unknown> } {
  const req = request({ socketPath: daemon.socket, method: 'PUT', path: `/v1.50/containers/${id}/archive?path=/tmp`, headers: { Host: 'berth', 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
  const settled = new Promise((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', resolve);
  });
  req.write(Buffer.alloc(100)); // part of a tar header: the extraction waits for the rest
  return { settled };
}

async function state(daemon: TestDaemon, id: string): Promise<{ Status: string; Paused: boolean; Running: boolean }> {
  return JSON.parse((await docker(daemon.host, ['inspect', '-f', '{{json .State}}', id])).stdout) as { Status: string; Paused: boolean; Running: boolean };
}

/** SIGKILL of berthd, then a new berthd on the same root. */
async function crashAndRestart(daemon: TestDaemon): Promise<TestDaemon> {
  process.kill(daemon.pid, 'SIGKILL');
  await daemon.stop();
  return startBerthd({ root: daemon.root });
}

test('berthd killed during a docker cp freeze: after the restart the container runs, not paused; a user-paused one stays paused', { skip, timeout: 300_000 }, async (t) => {
  let daemon = await startBusyboxDaemon();
  t.after(() => daemon.cleanup());
  const run = (...args: string[]) => docker(daemon.host, args);
  const copied = (await run('run', '-d', 'busybox', 'sh', '-c', 'while :; do date +%s%N > /tmp/alive; sleep 0.05; done')).stdout.trim();
  const paused = (await run('run', '-d', 'busybox', 'sleep', '1000')).stdout.trim();
  assert.equal((await run('pause', paused)).code, 0);

  const copy = hangingCopyInto(daemon, copied);
  await waitFor('the copy to freeze the container', async () => (await freezerState(daemon, copied)) === 'FROZEN');
  daemon = await crashAndRestart(daemon);
  await copy.settled;

  const after = await state(daemon, copied);
  assert.equal(after.Status, 'running');
  assert.equal(after.Paused, false);
  assert.equal(await freezerState(daemon, copied), 'THAWED');
  // Its process goes on: the file it rewrites changes.
  const before = (await run('exec', copied, 'cat', '/tmp/alive')).stdout;
  await waitFor('the container to work again', async () => (await run('exec', copied, 'cat', '/tmp/alive')).stdout !== before);
  assert.equal((await state(daemon, paused)).Status, 'paused', 'the user\'s pause stays');
  assert.equal(await freezerState(daemon, paused), 'FROZEN');
  assert.equal((await run('unpause', paused)).code, 0);
  assert.equal((await run('rm', '-f', copied, paused)).code, 0);
});

test('berthd killed while docker commit has the container paused: after the restart it runs, not paused', { skip, timeout: 300_000 }, async (t) => {
  let daemon = await startBusyboxDaemon();
  t.after(() => daemon.cleanup());
  const run = (...args: string[]) => docker(daemon.host, args);
  // A large change keeps the commit (and its pause) going long enough to see the freeze.
  const id = (await run('run', '-d', 'busybox', 'sh', '-c', 'head -c 300000000 /dev/urandom > /big && echo ready && exec sleep 1000')).stdout.trim();
  await waitFor('the large file', async () => (await run('logs', id)).stdout === 'ready\n', 60_000);

  const commit = run('commit', id, 'committed:crash');
  await waitFor('the commit to freeze the container', async () => (await freezerState(daemon, id)) === 'FROZEN', 60_000);
  daemon = await crashAndRestart(daemon);
  await commit;

  const after = await state(daemon, id);
  assert.equal(after.Status, 'running');
  assert.equal(after.Paused, false);
  assert.equal(await freezerState(daemon, id), 'THAWED');
  assert.equal((await run('exec', id, 'true')).code, 0, 'the container takes an exec again');
  assert.equal((await run('rm', '-f', id)).code, 0);
});

test('rm -f of a paused container completes and leaves no process of it', { skip, timeout: 300_000 }, async (t) => {
  const daemon = await startBusyboxDaemon();
  t.after(() => daemon.cleanup());
  const run = (...args: string[]) => docker(daemon.host, args);
  const id = (await run('run', '-d', 'busybox', 'sleep', '1000')).stdout.trim();
  const pid = Number((await run('inspect', '-f', '{{.State.Pid}}', id)).stdout.trim());
  assert.equal((await run('pause', id)).code, 0);
  assert.equal(await freezerState(daemon, id), 'FROZEN');
  const removed = await run('rm', '-f', id);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await run('ps', '-aq')).stdout, '');
  await waitFor('the container process to be gone', async () => !processAlive(pid));
  assert.equal(await freezerState(daemon, id), 'none', 'its cgroup is gone');
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
