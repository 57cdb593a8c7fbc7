/**
 * berthd killed (SIGKILL) while containers are being started: after a restart on the same data
 * root every container is in a state Docker could show and works from there, and once they are
 * removed and berthd stopped nothing of theirs is left on the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Processes whose command line mentions `text` (conmon and runc of this daemon's containers). */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return found;
}

test('SIGKILL of berthd during 12 parallel run -d: after a restart every container runs or starts, and nothing is left once removed', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, async () => {
  let first: TestDaemon | undefined = await startBusyboxDaemon();
  let second: TestDaemon | undefined;
  try {
    const bundles = join(first.execRoot, 'containers');
    const runs = Array.from({ length: 12 }, () => docker(first!.host, ['run', '-d', 'busybox', 'sh', '-c', 'echo up; exec sleep 1000']));
    // Killed while starts are under way: once the first bundle has its runtime config.
    await waitFor('a container start', async () => (await readdir(bundles).catch(() => [] as string[])).some((id) => existsSync(join(bundles, id, 'config.json'))));
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    await Promise.all(runs);

    second = await startBerthd({ root: first.root });
    first = undefined;
    const run = (...args: string[]) => docker(second!.host, args);
    const ps = (await run('ps', '-a', '--format', '{{.ID}} {{.State}}')).stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
    assert.ok(ps.length > 0, 'some creates were recorded before the kill');
    for (const [id, state] of ps) {
      assert.ok(['running', 'created'].includes(state), `${id} is ${state}`);
      const full = (await run('inspect', '-f', '{{.Id}}', id)).stdout.trim();
      if (state === 'created') {
        assert.deepEqual(await processesMentioning(full), [], `a created container has no conmon or runtime process left (${id})`);
        const started = await run('start', id);
        assert.equal(started.code, 0, `a created container starts after the restart: ${started.stderr}`);
      }
      await waitFor(`${id} to log`, async () => (await run('logs', id)).stdout === 'up\n');
      assert.equal((await run('exec', id, 'true')).code, 0);
    }
    const ids = ps.map(([id]) => id);
    const fullIds = (await run('inspect', '-f', '{{.Id}}', ...ids)).stdout.trim().split('\n');
    assert.equal((await run('rm', '-f', ...ids)).code, 0);
    assert.equal(await second.stop(), 0);

    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    assert.deepEqual(mountinfo.split('\n').filter((l) => l.includes(second!.root)), [], 'no mount under the daemon\'s root');
    const netns = await readdir('/run/netns').catch(() => [] as string[]);
    assert.deepEqual(netns.filter((n) => fullIds.some((id) => n.includes(id))), [], 'no network namespace of its containers');
    assert.deepEqual(await processesMentioning(second.root), [], 'no conmon or runtime process of the daemon');
    assert.deepEqual(fullIds.filter((id) => existsSync(join('/run/runc', id))), [], 'no runc state of its containers');
  } finally {
    await first?.cleanup();
    await second?.cleanup();
  }
});

test('a container whose conmon is killed is recorded as ended (137, with the reason), and stops, starts again and is removed normally', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, async () => {
  const daemon = await startBusyboxDaemon();
  try {
    const run = (...args: string[]) => docker(daemon.host, args);
    const id = (await run('run', '-d', 'busybox', 'sleep', '1000')).stdout.trim();
    const conmon = Number(await readFile(join(daemon.execRoot, 'containers', id, 'conmon.pid'), 'utf8'));
    process.kill(conmon, 'SIGKILL');
    await waitFor('the run to be recorded as ended', async () => (await run('inspect', '-f', '{{.State.Status}}', id)).stdout.trim() === 'exited');
    const state = JSON.parse((await run('inspect', '-f', '{{json .State}}', id)).stdout) as { ExitCode: number; Error: string };
    assert.equal(state.ExitCode, 137);
    assert.match(state.Error, /conmon/);
    assert.deepEqual(await processesMentioning(id), [], 'the container\'s processes were killed with their monitor');
    assert.equal((await run('start', id)).code, 0);
    assert.equal((await run('stop', '-t', '1', id)).code, 0);
    assert.equal((await run('rm', id)).code, 0);
  } finally {
    await daemon.cleanup();
  }
});

test('a create cut short before its record was written leaves nothing after the next start (its snapshot goes)', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, async () => {
  let daemon: TestDaemon | undefined = await startBusyboxDaemon();
  try {
    const id = (await docker(daemon.host, ['create', 'busybox', 'true'])).stdout.trim();
    const snapshot = join(daemon.dataRoot, 'overlay', 'snapshots', id);
    assert.ok(existsSync(snapshot));
    assert.equal(await daemon.stop(), 0);
    // The state a SIGKILL between the snapshot and the record leaves.
    await rm(join(daemon.dataRoot, 'containers', id, 'config.v2.json'));
    daemon = await startBerthd({ root: daemon.root });
    assert.ok(!existsSync(snapshot), 'the orphaned snapshot is removed');
    assert.equal((await docker(daemon.host, ['ps', '-aq'])).stdout, '');
  } finally {
    await daemon?.cleanup();
  }
});
