/**
 * Faults a user meets: the data root full during a pull and a commit (a small tmpfs as the data
 * root), and a runtime binary that is not there. Each gives a clear error, leaves nothing
 * half-written, and the daemon keeps serving; freed space lets the same work succeed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, statfs, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempRoot, startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/cli.js';
import { leftoverTempFiles, makeBusyboxRootfs } from '../helpers/images.js';
import { startRegistry } from '../helpers/registry.js';

const isRoot = process.getuid?.() === 0;

/** Fills the filesystem at `dir` until `leaveBytes` are free; returns the filler's path. */
async function fill(dir: string, leaveBytes: number): Promise<string> {
  const info = await statfs(dir);
  const free = info.bavail * info.bsize;
  const filler = join(dir, 'filler');
  await writeFile(filler, Buffer.alloc(Math.max(0, free - leaveBytes)));
  return filler;
}

async function imageIds(daemon: TestDaemon): Promise<string[]> {
  return (JSON.parse((await daemon.request('GET', '/images/json?all=1')).body) as { Id: string }[]).map((i) => i.Id).sort();
}

test('data root full during pull and commit: "no space left on device", nothing half-written, work resumes once space is freed', { skip: isRoot ? false : 'needs root to mount tmpfs', timeout: 240_000 }, async (t) => {
  const root = await makeTempRoot('berth-enospc-');
  const dataRoot = join(root, 'data');
  await mkdir(dataRoot);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', dataRoot]);
  assert.equal(mounted.status, 0, String(mounted.stderr));
  const registry = await startRegistry();
  let daemon: TestDaemon | undefined;
  t.after(async () => {
    await daemon?.cleanup().catch(() => undefined);
    spawnSync('umount', ['-l', dataRoot]);
    await rm(root, { recursive: true, force: true });
    await registry.cleanup();
  });
  daemon = await startBerthd({ root, keepRootOnFailure: true });
  const host = daemon.host;
  const rootfs = makeBusyboxRootfs(join(root, 'busybox.tar'));
  assert.equal((await docker(host, ['import', '-c', 'CMD ["sh"]', rootfs, 'busybox'])).code, 0);
  // A container with changes to commit, made while there is room; its commit, pushed and
  // removed here, is what the pull must download again (a 3 MB layer).
  const run = await docker(host, ['run', '--name', 'writer', 'busybox', 'sh', '-c', 'head -c 3000000 /dev/urandom > /payload']);
  assert.equal(run.code, 0, run.stderr);
  const remote = `${registry.host}/faults/payload:latest`;
  assert.equal((await docker(host, ['commit', 'writer', remote])).code, 0);
  const pushed = await docker(host, ['push', remote]);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal((await docker(host, ['rmi', remote])).code, 0);
  const before = await imageIds(daemon);

  const filler = await fill(dataRoot, 256 * 1024);
  const pull = await docker(host, ['pull', remote]);
  assert.notEqual(pull.code, 0);
  assert.match(pull.stderr + pull.stdout, /no space left on device/);
  const commit = await docker(host, ['commit', 'writer', 'committed:1']);
  assert.notEqual(commit.code, 0);
  assert.match(commit.stderr, /no space left on device/);
  assert.deepEqual(await imageIds(daemon), before, 'no image recorded');
  assert.deepEqual(leftoverTempFiles(dataRoot), [], 'no partial blob or layer');
  assert.equal((await daemon.request('GET', '/_ping')).status, 200);

  await rm(filler);
  const again = await docker(host, ['pull', remote]);
  assert.equal(again.code, 0, again.stderr);
  const committed = await docker(host, ['commit', 'writer', 'committed:1']);
  assert.equal(committed.code, 0, committed.stderr);
  const check = await docker(host, ['run', '--rm', 'committed:1', 'sh', '-c', 'wc -c < /payload']);
  assert.equal(check.stdout.trim(), '3000000', check.stderr);
  assert.deepEqual(await readdir(join(dataRoot, 'content', 'ingest')), []);
});

test('a runtime binary that goes missing: run fails with a clear error, berthd stays up; a missing default refuses the start', { skip: isRoot ? false : 'needs root', timeout: 120_000 }, async (t) => {
  const root = await makeTempRoot('berth-noruntime-');
  const runtime = join(root, 'vanishing-runc');
  await symlink('/usr/sbin/runc', runtime);
  await writeFile(join(root, 'daemon.json'), JSON.stringify({ runtimes: { vanishing: { path: runtime } } }));
  const daemon = await startBerthd({ root });
  t.after(() => daemon.cleanup());
  const rootfs = makeBusyboxRootfs(join(root, 'busybox.tar'));
  assert.equal((await docker(daemon.host, ['import', '-c', 'CMD ["sh"]', rootfs, 'busybox'])).code, 0);
  await rm(runtime);
  const run = await docker(daemon.host, ['run', '--name', 'c1', '--runtime', 'vanishing', 'busybox', 'true']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /vanishing-runc/, `the error names the missing runtime binary: ${run.stderr}`);
  assert.equal((await daemon.request('GET', '/_ping')).status, 200, 'berthd still serves');
  const inspect = JSON.parse((await daemon.request('GET', '/containers/c1/json')).body) as { State?: { Status: string } };
  assert.ok(inspect.State && ['created', 'exited'].includes(inspect.State.Status), `a state Docker shows: ${inspect.State?.Status}`);
  const removed = await docker(daemon.host, ['rm', '-f', 'c1']);
  assert.equal(removed.code, 0, removed.stderr);
  const ok = await docker(daemon.host, ['run', '--rm', 'busybox', 'echo', 'still works']);
  assert.equal(ok.stdout.trim(), 'still works', ok.stderr);
  await daemon.stop();

  await writeFile(join(root, 'daemon.json'), JSON.stringify({ runtimes: { vanishing: { path: runtime } }, 'default-runtime': 'vanishing' }));
  await assert.rejects(startBerthd({ root, keepRootOnFailure: true }), /default runtime vanishing is not installed/);
});

/**
 * A PATH of one directory holding links to everything on the usual PATH except `missing`: berthd
 * finds ip, nft, mount... but not the binary a test takes away.
 */
async function pathWithout(dir: string, missing: string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const source of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    for (const name of await readdir(source).catch(() => [] as string[])) {
      if (missing.includes(name) || existsSync(join(dir, name))) continue;
      await symlink(join(source, name), join(dir, name));
    }
  }
  return dir;
}

test('conmon or every OCI runtime missing from PATH: berthd refuses to start, naming the binary and how to install it', { skip: isRoot ? false : 'needs root', timeout: 60_000 }, async (t) => {
  const scratch = await makeTempRoot('berth-nobinary-');
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const refused = async (path: string, expected: RegExp): Promise<void> => {
    const started = await startBerthd({ env: { ...process.env, PATH: path } }).then((d) => d, (err: Error) => err);
    if (!(started instanceof Error)) {
      await started.cleanup();
      assert.fail(`berthd started with PATH=${path}`);
    }
    assert.match(started.message, expected);
  };
  await refused(await pathWithout(join(scratch, 'no-conmon'), ['conmon']), /berthd: failed to start daemon: conmon not found in PATH \(.*\): berthd runs every container under conmon; install it \(Debian: apt-get install conmon\)/);
  await refused(await pathWithout(join(scratch, 'no-runtime'), ['runc', 'crun']), /berthd: failed to start daemon: no OCI runtime found: none of runc, crun is in PATH \(.*\); install runc \(Debian: apt-get install runc\)/);
  // Nothing else was wrong: with the usual PATH a daemon starts.
  const daemon = await startBerthd();
  t.after(() => daemon.cleanup());
  assert.equal((await daemon.request('GET', '/_ping')).status, 200);
});
