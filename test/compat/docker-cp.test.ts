/** The real docker CLI copying files out of and into containers on berthd, and failing to escape them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('docker cp on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let work: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
    work = mkdtempSync(join(daemon.root, 'cp-'));
  });
  after(async () => {
    await daemon?.cleanup();
  });

  const waitFor = async (id: string, path: string) => {
    for (let i = 0; i < 50 && (await run('exec', id, 'test', '-e', path)).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  };

  test('a file and a directory come out of a running container with their contents, modes and owners', async () => {
    const id = (await run('run', '-d', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo hello > /data/hello.txt && echo deep > /data/sub/deep && chmod 640 /data/hello.txt && chown 1000:1000 /data/hello.txt && touch /ready && exec sleep 300')).stdout.trim();
    try {
      await waitFor(id, '/ready');
      const file = join(work, 'out.txt');
      const r = await run('cp', `${id}:/data/hello.txt`, file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(file, 'utf8'), 'hello\n');
      assert.equal(statSync(file).mode & 0o777, 0o640);
      const dir = join(work, 'outdir');
      assert.equal((await run('cp', `${id}:/data`, dir)).code, 0);
      assert.equal(readFileSync(join(dir, 'sub', 'deep'), 'utf8'), 'deep\n');
      assert.deepEqual(readdirSync(dir).sort(), ['hello.txt', 'sub']);
      // berth cp -a keeps the container's owners; a tar to stdout lists the entries under the path's own name.
      const archived = join(work, 'archived');
      assert.equal((await berth(daemon.host, ['cp', '-a', `${id}:/data/hello.txt`, archived])).code, 0);
      assert.equal(statSync(archived).uid, 1000);
      const tar = spawnSync('docker', ['cp', `${id}:/data`, '-'], { env: { ...process.env, DOCKER_HOST: daemon.host } });
      const listing = spawnSync('tar', ['-tv'], { input: tar.stdout, encoding: 'utf8' }).stdout;
      assert.match(listing, /1000\/1000 +6 .* data\/hello\.txt$/m);
      assert.match(listing, /^d.* data\/sub\/$/m);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('files and directories go into a stopped container, and the process sees them when it starts', async () => {
    const id = (await run('create', 'busybox', 'sh', '-c', 'cat /tmp/in.txt /opt/tree/a/b.txt; stat -c "%u:%g %a" /opt/tree/a/b.txt')).stdout.trim();
    try {
      writeFileSync(join(work, 'in.txt'), 'copied in\n');
      const tree = join(work, 'tree');
      mkdirSync(join(tree, 'a'), { recursive: true });
      writeFileSync(join(tree, 'a', 'b.txt'), 'nested\n', { mode: 0o600 });
      assert.equal((await run('cp', join(work, 'in.txt'), `${id}:/tmp/`)).code, 0);
      const r = await run('cp', tree, `${id}:/opt/tree`);
      assert.equal(r.code, 0, r.stderr);
      const started = await run('start', '-a', id);
      assert.equal(started.stdout, 'copied in\nnested\n0:0 600\n');
      // Copy out of the stopped container too, and nothing stays mounted for it.
      assert.equal((await run('cp', `${id}:/opt/tree/a/b.txt`, join(work, 'back.txt'))).code, 0);
      assert.equal(readFileSync(join(work, 'back.txt'), 'utf8'), 'nested\n');
      // berthd releases the mount just after the last byte went out.
      const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(`${id}/rootfs`);
      for (let i = 0; i < 30 && mounted(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!mounted(), 'the rootfs is unmounted after the copies');
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('a symlink /escape -> / cannot make docker cp read or write the host (running and stopped)', async () => {
    // A host directory with a secret, at a path that exists only on the host.
    const hostDir = mkdtempSync(join(daemon.root, 'host-secret-'));
    writeFileSync(join(hostDir, 'secret'), 'host only\n');
    const id = (await run('run', '-d', 'busybox', 'sh', '-c', 'ln -s / /escape && ln -s ../../../../../.. /climb && mkdir -p /box && touch /ready && exec sleep 300')).stdout.trim();
    try {
      await waitFor(id, '/ready');
      for (const phase of ['running', 'stopped']) {
        for (const link of ['escape', 'climb']) {
          const read = await run('cp', `${id}:/${link}${hostDir}/secret`, join(work, `stolen-${phase}-${link}`));
          assert.notEqual(read.code, 0, `${phase}: reading through /${link} must fail`);
          assert.match(read.stderr, /Could not find the file/);
          assert.ok(!existsSync(join(work, `stolen-${phase}-${link}`)));
          writeFileSync(join(work, 'evil'), 'written by cp\n');
          const write = await run('cp', join(work, 'evil'), `${id}:/${link}${hostDir}/evil`);
          assert.notEqual(write.code, 0, `${phase}: writing through /${link} must fail`);
          assert.ok(!existsSync(join(hostDir, 'evil')), `${phase}: nothing written on the host through /${link}`);
          // Through the link into a directory that exists in the container: lands in the container.
          assert.equal((await run('cp', join(work, 'evil'), `${id}:/${link}/box/`)).code, 0);
        }
        assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host only\n');
        if (phase === 'running') await run('stop', '-t', '1', id);
      }
      const out = await run('cp', `${id}:/box/evil`, '-');
      assert.match(out.stdout, /written by cp/);
    } finally {
      await run('rm', '-f', id);
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('an archive cannot write through a symlink it made itself or climb out with ..', async () => {
    const id = (await run('create', 'busybox', 'true')).stdout.trim();
    try {
      const throughLink = buildTar([{ name: 'l', type: 'symlink', linkname: '/' }, { name: `l${daemon.root}/planted`, data: 'x' }]);
      const r = await docker(daemon.host, ['cp', '-', `${id}:/tmp`], { input: throughLink });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /symlink the archive created/);
      assert.ok(!existsSync(join(daemon.root, 'planted')));
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('bad input: a destination whose parent is a file, a missing path, a missing container', async () => {
    const id = (await run('create', 'busybox', 'true')).stdout.trim();
    try {
      writeFileSync(join(work, 'f.txt'), 'f\n');
      const intoFile = await run('cp', join(work, 'f.txt'), `${id}:/etc/passwd/x`);
      assert.equal(intoFile.code, 1);
      assert.match(intoFile.stderr, /extraction point is not a directory/);
      const passwd = join(work, 'passwd');
      assert.equal((await run('cp', `${id}:/etc/passwd`, passwd)).code, 0);
      assert.match(readFileSync(passwd, 'utf8'), /^root:/, 'the file is unchanged');
      const missing = await run('cp', `${id}:/no/such`, join(work, 'x'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, new RegExp(`Could not find the file /no/such in container ${id}`));
      const noContainer = await run('cp', join(work, 'f.txt'), 'nope:/tmp/f.txt');
      assert.equal(noContainer.code, 1);
      assert.match(noContainer.stderr, /No such container: nope/);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('berth cp copies both ways, with - for a tar stream', async () => {
    const id = (await run('create', 'busybox', 'cat', '/srv/note.txt')).stdout.trim();
    try {
      writeFileSync(join(work, 'note.txt'), 'berth cp\n');
      const into = await berth(daemon.host, ['cp', join(work, 'note.txt'), `${id}:/srv/`]);
      assert.equal(into.code, 0, into.stderr);
      assert.equal((await run('start', '-a', id)).stdout, 'berth cp\n');
      const outDir = join(work, 'berth-out');
      mkdirSync(outDir);
      const out = await berth(daemon.host, ['cp', `${id}:/srv`, outDir]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(readFileSync(join(outDir, 'srv', 'note.txt'), 'utf8'), 'berth cp\n');
      const renamed = await berth(daemon.host, ['cp', `${id}:/srv/note.txt`, join(work, 'renamed.txt')]);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.equal(readFileSync(join(work, 'renamed.txt'), 'utf8'), 'berth cp\n');
      const stdin = await berth(daemon.host, ['cp', '-', `${id}:/srv`], { input: buildTar([{ name: 'from-stdin', data: 'tar in\n' }]) });
      assert.equal(stdin.code, 0, stdin.stderr);
      const missingDir = await berth(daemon.host, ['cp', join(work, 'note.txt'), `${id}:/no/such/dir/`]);
      assert.equal(missingDir.code, 1);
      const back = await berth(daemon.host, ['cp', `${id}:/srv/from-stdin`, '-']);
      assert.match(back.stdout, /tar in/);
    } finally {
      await run('rm', '-f', id);
    }
  });
});
