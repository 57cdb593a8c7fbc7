/**
 * The classic escapes through a tar given to docker cp (PUT /containers/{id}/archive): "..",
 * absolute names, a symlink then a write through it, a hard link out, device nodes. Each must leave
 * the host untouched; the ones Docker accepts land inside the extraction directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { buildTar, type EntrySpec } from '../../src/archive/tar-writer.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** A copy that never answers fails its test instead of hanging the suite. */
const bounded = { timeout: 60_000 };

describe('docker cp refuses archives that reach out of the container', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let id: string;
  let hostDir: string;
  const marker = `escaped-${randomBytes(4).toString('hex')}`;
  before(async () => {
    daemon = await startBusyboxDaemon();
    hostDir = mkdtempSync(join(daemon.root, 'host-'));
    writeFileSync(join(hostDir, 'secret'), 'host only\n');
    id = (await docker(daemon.host, ['create', 'busybox', 'true'])).stdout.trim();
    assert.equal((await docker(daemon.host, ['cp', '-', `${id}:/`], { input: buildTar([{ name: 'box', type: 'dir' }, { name: 'box/inner', type: 'dir' }]) })).code, 0);
  });
  after(async () => {
    if (id) await docker(daemon.host, ['rm', '-f', id]);
    await daemon?.cleanup();
  });

  const copyIn = (entries: EntrySpec[], dest = '/box/inner') => docker(daemon.host, ['cp', '-', `${id}:${dest}`], { input: buildTar(entries) });
  /** The container's paths under `path`, as a tar listing of a copy out. */
  const listing = (path: string) => {
    const tar = spawnSync('docker', ['cp', `${id}:${path}`, '-'], { env: { ...process.env, DOCKER_HOST: daemon.host } });
    return spawnSync('tar', ['-t'], { input: tar.stdout, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  };
  const hostUntouched = () => {
    assert.deepEqual(readdirSync(hostDir), ['secret']);
    assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host only\n');
    assert.equal(statSync(join(hostDir, 'secret')).nlink, 1, 'no hard link was made to the host file');
    assert.ok(!existsSync(join('/', marker)) && !existsSync(join(daemon.root, marker)), 'nothing at the host\'s / or the test root');
  };

  test('an entry climbing out with .. is refused', bounded, async () => {
    for (const name of [`../${marker}`, `../../../../../../..${hostDir}/${marker}`, `a/../../${marker}`]) {
      const r = await copyIn([{ name, data: 'x' }]);
      assert.notEqual(r.code, 0, name);
      assert.match(r.stderr, /points outside the target/);
    }
    assert.ok(!listing('/box').some((p) => p.includes(marker)), 'not even in the container above the target');
    hostUntouched();
  });

  test('an absolute name lands inside the extraction directory (its parents made), as in Docker', bounded, async () => {
    const r = await copyIn([{ name: `${hostDir}/${marker}`, data: 'x' }]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(listing('/box/inner').includes(`inner${hostDir}/${marker}`));
    hostUntouched();
  });

  test('a symlink the archive made is never written through, nor one it replaces', bounded, async () => {
    const through = await copyIn([{ name: 'up', type: 'symlink', linkname: '../../../../../..' }, { name: `up${hostDir}/${marker}`, data: 'x' }]);
    assert.notEqual(through.code, 0);
    assert.match(through.stderr, /symlink the archive created/);
    // A file named as an existing link replaces the link; the host file the link names is not written.
    const replaced = await copyIn([{ name: 'secret', type: 'symlink', linkname: `${hostDir}/secret` }, { name: 'secret', data: 'from the archive\n' }]);
    assert.equal(replaced.code, 0, replaced.stderr);
    const out = spawnSync('docker', ['cp', `${id}:/box/inner/secret`, '-'], { env: { ...process.env, DOCKER_HOST: daemon.host }, encoding: 'latin1' });
    assert.match(out.stdout, /from the archive/);
    hostUntouched();
  });

  test('a hard link cannot point out of the container', bounded, async () => {
    const climbing = await copyIn([{ name: 'h1', type: 'link', linkname: `../../../../../..${hostDir}/secret` }]);
    assert.notEqual(climbing.code, 0);
    assert.match(climbing.stderr, /points outside the target/);
    // An absolute target is a path inside the container's extraction directory: not there, refused.
    const absolute = await copyIn([{ name: 'h2', type: 'link', linkname: `${hostDir}/secret` }]);
    assert.notEqual(absolute.code, 0);
    assert.match(absolute.stderr, /not in the archive/);
    const throughLink = await copyIn([{ name: 'root', type: 'symlink', linkname: '/' }, { name: 'h3', type: 'link', linkname: `root${hostDir}/secret` }]);
    assert.notEqual(throughLink.code, 0);
    assert.match(throughLink.stderr, /symlink the archive created/);
    assert.ok(!listing('/box/inner').some((p) => /\/h[123]$/.test(p)));
    hostUntouched();
  });

  test('device nodes are refused', bounded, async () => {
    for (const type of ['char', 'block'] as const) {
      const r = await copyIn([{ name: `dev-${type}`, type, devmajor: 1, devminor: 3, mode: 0o666 }]);
      assert.notEqual(r.code, 0, type);
      assert.match(r.stderr, /device nodes are not copied into containers/);
    }
    assert.ok(!listing('/box/inner').some((p) => p.includes('dev-')));
    // A FIFO is no device: it is copied, as Docker does.
    assert.equal((await copyIn([{ name: 'pipe', type: 'fifo', mode: 0o640 }])).code, 0);
    assert.ok(listing('/box/inner').includes('inner/pipe'));
  });
});
