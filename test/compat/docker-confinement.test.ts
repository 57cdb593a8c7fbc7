/**
 * Confinement as Docker's: the built-in default seccomp profile, a profile the docker CLI sends as
 * JSON text (`--security-opt seccomp=FILE`), a daemon that refuses a missing profile, and
 * `--cgroupns host|private`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readlinkSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { httpRequest, makeTempRoot, spawnBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('confinement through the docker CLI', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);

  test('the default profile is Docker\'s: no user namespaces without CAP_SYS_ADMIN; unconfined or --cap-add SYS_ADMIN allows them', async () => {
    const filtered = await run('run', '--rm', 'busybox', 'unshare', '-U', 'true');
    assert.notEqual(filtered.code, 0);
    assert.match(filtered.stderr, /Operation not permitted/);
    const unconfined = await run('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true');
    assert.equal(unconfined.code, 0, unconfined.stderr);
    const withCap = await run('run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'unshare', '-U', 'true');
    assert.equal(withCap.code, 0, withCap.stderr);
    const builtin = await run('run', '--rm', '--security-opt', 'seccomp=builtin', 'busybox', 'unshare', '-U', 'true');
    assert.match(builtin.stderr, /Operation not permitted/);
  });

  test('--security-opt seccomp=FILE: the profile the CLI sends as JSON is applied', async () => {
    const profile = join(daemon.root, 'no-mkdir.json');
    await writeFile(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }, null, 2));
    const blocked = await run('run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'touch /tmp/file && echo touched; mkdir /tmp/a');
    assert.equal(blocked.stdout, 'touched\n');
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /mkdir: can't create directory '\/tmp\/a': Operation not permitted/);
    // berth's own CLI reads the file on the client side too.
    const viaBerth = await berth(daemon.host, ['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/tmp/a']);
    assert.notEqual(viaBerth.code, 0);
    assert.match(viaBerth.stderr, /Operation not permitted/);
    // The profile replaces the default one: what the default forbids, this one allows.
    assert.equal((await run('run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'unshare', '-U', 'true')).code, 0);
  });

  test('a seccomp profile that does not parse is a 400 with Docker\'s message, at create', async () => {
    const create = (opt: string) => daemon.request('POST', '/v1.50/containers/create', { body: JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: [opt] } }), headers: { 'Content-Type': 'application/json' } });
    const bad = await create('seccomp={"defaultAction":');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /^Decoding seccomp profile failed: /);
    // A daemon-side path is not a profile: the CLI reads files on the client side.
    const path = await create('seccomp=/etc/passwd');
    assert.equal(path.status, 400);
    assert.match(JSON.parse(path.body).message, /^Decoding seccomp profile failed: /);
    const action = await create('seccomp={"defaultAction":"SCMP_ACT_NOPE"}');
    assert.equal(action.status, 400);
    assert.match(JSON.parse(action.body).message, /Decoding seccomp profile failed: invalid defaultAction "SCMP_ACT_NOPE"/);
    assert.equal((await run('ps', '-aq')).stdout, '');
  });

  test('--cgroupns private gives the container its own cgroup namespace; host (the default on cgroup v1) shares the host\'s', async () => {
    const hostNs = readlinkSync('/proc/self/ns/cgroup');
    const privateNs = await run('run', '--rm', '--cgroupns', 'private', 'busybox', 'readlink', '/proc/self/ns/cgroup');
    assert.equal(privateNs.code, 0, privateNs.stderr);
    assert.match(privateNs.stdout, /^cgroup:\[\d+\]\n$/);
    assert.notEqual(privateNs.stdout.trim(), hostNs);
    const sharedNs = await run('run', '--rm', '--cgroupns', 'host', 'busybox', 'readlink', '/proc/self/ns/cgroup');
    assert.equal(sharedNs.stdout.trim(), hostNs);

    await run('create', '--name', 'ns-default', 'busybox', 'true');
    await run('create', '--name', 'ns-private', '--cgroupns', 'private', 'busybox', 'true');
    try {
      assert.equal((await run('inspect', '-f', '{{.HostConfig.CgroupnsMode}}', 'ns-default')).stdout, 'host\n');
      assert.equal((await run('inspect', '-f', '{{.HostConfig.CgroupnsMode}}', 'ns-private')).stdout, 'private\n');
    } finally {
      await run('rm', 'ns-default', 'ns-private');
    }
    const bad = await daemon.request('POST', '/v1.50/containers/create', { body: JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { CgroupnsMode: 'bogus' } }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'invalid cgroup namespace mode: bogus');
  });
});

/** Resolves once a daemon answers /_ping on `socket`; never, if it exits first. */
async function answers(socket: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) return new Promise(() => undefined);
    if (await httpRequest(socket, 'GET', '/_ping').then((r) => r.status === 200, () => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a daemon whose configured seccomp profile is missing or invalid does not start', { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
  for (const [what, content] of [['missing', undefined], ['not a profile', '{"defaultAction": 3}']] as const) {
    test(`seccomp-profile ${what}: berthd exits 1 naming the file`, async () => {
      const root = await makeTempRoot();
      try {
        const profile = join(root, 'profile.json');
        if (content !== undefined) await writeFile(profile, content);
        await writeFile(join(root, 'daemon.json'), JSON.stringify({ 'seccomp-profile': profile }));
        const socket = join(root, 's.sock');
        const berthd = spawnBerthd(['--data-root', join(root, 'd'), '--exec-root', join(root, 'r'), '-H', `unix://${socket}`, '--config-file', join(root, 'daemon.json')]);
        // A daemon that starts anyway (answers on its socket) fails the test and is stopped, never waited for.
        const outcome = await Promise.race([berthd.exited.then((code) => ({ exited: code })), answers(socket, berthd.exited).then(() => ({ exited: 'still running' as const }))]);
        if (outcome.exited === 'still running') {
          berthd.child.kill('SIGTERM');
          await berthd.exited;
        }
        assert.equal(outcome.exited, 1, berthd.output());
        assert.match(berthd.output(), new RegExp(`seccomp profile \\(${profile.replace(/[/.]/g, '\\$&')}\\)`));
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});
