import { test } from 'node:test';
import { freeLoopbackPort } from '../helpers/ports.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile, rm, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { httpRequest, makeTempRoot, spawnBerthd, startBerthd } from '../helpers/berthd.js';


test('a second berthd on the same data root refuses to start and names the pid', async () => {
  const daemon = await startBerthd();
  try {
    const other = spawnBerthd(['--data-root', daemon.dataRoot, '--exec-root', join(daemon.root, 'run2'), '-H', `unix://${join(daemon.root, 'other.sock')}`, '--config-file', join(daemon.root, 'daemon.json')]);
    const code = await other.exited;
    assert.equal(code, 1);
    assert.match(other.output(), new RegExp(`another berthd \\(pid ${daemon.pid}\\) is using the data root`));
    assert.equal((await daemon.request('GET', '/_ping')).status, 200, 'the first daemon keeps serving');
  } finally {
    await daemon.cleanup();
  }
});

test('SIGTERM shuts down cleanly: exit 0, socket, pidfile and lock removed; the ID survives a restart', async () => {
  const daemon = await startBerthd();
  try {
    const firstId = JSON.parse((await daemon.request('GET', '/info')).body).ID as string;
    assert.ok(existsSync(join(daemon.execRoot, 'berthd.pid')));
    assert.equal((await readFile(join(daemon.execRoot, 'berthd.pid'), 'utf8')).trim(), String(daemon.pid));
    assert.equal(await daemon.stop(), 0);
    assert.equal(existsSync(daemon.socket), false, 'socket removed');
    assert.equal(existsSync(join(daemon.execRoot, 'berthd.pid')), false, 'pidfile removed');
    assert.equal(existsSync(join(daemon.dataRoot, 'berthd.lock')), false, 'lock released');

    const again = await startBerthd({ root: daemon.root });
    try {
      assert.equal(JSON.parse((await again.request('GET', '/info')).body).ID, firstId);
    } finally {
      await again.stop();
    }
  } finally {
    await daemon.cleanup();
  }
});

test('a stale lock from a dead process is taken over', async () => {
  const root = await makeTempRoot();
  try {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'data'), { recursive: true });
    // A pid far above pid_max cannot be alive.
    await writeFile(join(root, 'data', 'berthd.lock'), '99999999\n');
    const daemon = await startBerthd({ root });
    await daemon.stop();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('daemon.json: unknown keys and flag/file conflicts are refused with dockerd\'s words', async () => {
  const root = await makeTempRoot();
  try {
    const config = join(root, 'daemon.json');
    const base = ['--exec-root', join(root, 'run'), '-H', `unix://${join(root, 's.sock')}`, '--config-file', config];
    await writeFile(config, JSON.stringify({ 'no-such-option': true }));
    let run = spawnBerthd(['--data-root', join(root, 'data'), ...base]);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /the following directives don't match any configuration option: no-such-option/);

    await writeFile(config, JSON.stringify({ 'data-root': join(root, 'data-file') }));
    run = spawnBerthd(['--data-root', join(root, 'data'), ...base]);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /specified both as a flag and in the configuration file: data-root/);

    await writeFile(config, '{ not json');
    run = spawnBerthd(base);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /unable to configure the berth daemon with file/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('daemon.json settings apply: data-root and labels', async () => {
  const root = await makeTempRoot();
  try {
    await writeFile(join(root, 'daemon.json'), JSON.stringify({ 'data-root': join(root, 'from-file'), labels: ['team=core'] }));
    const { child, exited, output } = spawnBerthd(['--exec-root', join(root, 'run'), '-H', `unix://${join(root, 's.sock')}`, '--config-file', join(root, 'daemon.json')]);
    try {
      let info: { DockerRootDir?: string; Labels?: string[] } | undefined;
      for (let i = 0; i < 300 && !info; i++) {
        info = await httpRequest(join(root, 's.sock'), 'GET', '/info').then((r) => JSON.parse(r.body) as typeof info, () => undefined);
        if (!info) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(info, output());
      assert.equal(info.DockerRootDir, join(root, 'from-file'));
      assert.deepEqual(info.Labels, ['team=core']);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('several -H addresses: a unix socket and loopback TCP; TCP beyond loopback is refused', async () => {
  const port = await freeLoopbackPort();
  const daemon = await startBerthd({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`] });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1.50/version`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { ApiVersion: string }).ApiVersion, '1.50');
  } finally {
    await daemon.cleanup();
  }
  const root = await makeTempRoot();
  try {
    await writeFile(join(root, 'daemon.json'), '{}');
    const run = spawnBerthd(['--data-root', join(root, 'd'), '--exec-root', join(root, 'r'), '-H', 'tcp://0.0.0.0:2375', '--config-file', join(root, 'daemon.json')]);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /refusing to listen on tcp:\/\/0.0.0.0:2375/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('--group sets the socket group with mode 0660; a missing explicit group is an error', async () => {
  const daemon = await startBerthd({ extraArgs: ['--group', '0'] });
  try {
    const info = await stat(daemon.socket);
    assert.equal(info.mode & 0o777, 0o660);
    assert.equal(info.gid, 0);
  } finally {
    await daemon.cleanup();
  }
  const root = await makeTempRoot();
  try {
    await writeFile(join(root, 'daemon.json'), '{}');
    const run = spawnBerthd(['--data-root', join(root, 'd'), '--exec-root', join(root, 'r'), '-H', `unix://${join(root, 's.sock')}`, '--config-file', join(root, 'daemon.json'), '--group', 'no-such-group-berth']);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /group no-such-group-berth not found/);
    assert.equal(existsSync(join(root, 'd', 'berthd.lock')), false, 'a failed start releases the lock');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('flag errors exit 125 with pflag\'s message', async () => {
  const run = spawnBerthd(['--no-such-flag']);
  assert.equal(await run.exited, 125);
  assert.match(run.output(), /unknown flag: --no-such-flag/);
});
