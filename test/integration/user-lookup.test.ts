/**
 * run -u and exec -u on images whose /etc/passwd is hostile: a symlink to a host file outside the
 * rootfs must not give that file's users, and a FIFO must fail the start at once rather than hang
 * a berthd thread for good.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** A start that never answers fails the test instead of hanging the suite. */
const bounded = { timeout: 60_000 };

describe('user lookup in hostile images', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let hostPasswd: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  /** An image made from busybox by running `script` and committing the result. */
  const imageFrom = async (tag: string, script: string) => {
    const made = await run('run', '--name', `mk-${tag}`, 'busybox', 'sh', '-c', script);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await run('commit', `mk-${tag}`, tag)).code, 0);
    await run('rm', `mk-${tag}`);
  };
  before(async () => {
    daemon = await startBusyboxDaemon();
    // A host file outside the rootfs, at a path the image does not have.
    hostPasswd = join(daemon.root, 'host-passwd');
    writeFileSync(hostPasswd, 'hostuser:x:4242:4343:Host:/:/bin/sh\n');
    await imageFrom('linked-passwd', `rm /etc/passwd && ln -s ${hostPasswd} /etc/passwd`);
    await imageFrom('fifo-passwd', 'rm /etc/passwd && mkfifo /etc/passwd');
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('run -u and exec -u do not take a user from a host file the image links to', bounded, async () => {
    const started = await run('run', '--rm', '-u', 'hostuser', 'linked-passwd', 'id', '-u');
    assert.notEqual(started.code, 0, `started as uid ${started.stdout.trim()}`);
    assert.match(started.stderr, /unable to find user hostuser: no matching entries in passwd file/);
    const id = (await run('run', '-d', 'linked-passwd', 'sleep', '300')).stdout.trim();
    try {
      const exec = await run('exec', '-u', 'hostuser', id, 'id', '-u');
      // (The CLI shows the refusal garbled today: berthd answers the exec's error after the upgrade.)
      assert.notEqual(exec.code, 0, `exec ran as uid ${exec.stdout.trim()}`);
      assert.doesNotMatch(exec.stdout, /4242/);
      // A numeric user still runs, with no group taken from the host's entry.
      const numeric = await run('exec', '-u', '4242', id, 'id');
      assert.equal(numeric.code, 0, numeric.stderr);
      assert.match(numeric.stdout, /^uid=4242 gid=0/);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('a FIFO as /etc/passwd fails the start at once and berthd goes on answering', bounded, async () => {
    const created = await daemon.request('POST', '/containers/create', { body: JSON.stringify({ Image: 'fifo-passwd', User: 'app', Cmd: ['true'] }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(created.status, 201, created.body);
    const id = (JSON.parse(created.body) as { Id: string }).Id;
    try {
      const start = await daemon.request('POST', `/containers/${id}/start`);
      assert.equal(start.status, 400, start.body);
      assert.match(start.body, /unable to find user app: no matching entries in passwd file \(\/etc\/passwd not a regular file\)/);
      // Several more, more than libuv's four threads: none is left blocked on the FIFO.
      for (let i = 0; i < 5; i++) assert.equal((await daemon.request('POST', `/containers/${id}/start`)).status, 400);
      assert.equal((await daemon.request('GET', '/_ping')).status, 200);
    } finally {
      await run('rm', '-f', id);
    }
  });
});
