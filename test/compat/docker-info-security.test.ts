/** `docker info` SecurityOptions show what berthd is configured to apply, in dockerd's words. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempRoot, startBerthd } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';

const ready = dockerCliAvailable && process.getuid?.() === 0;
const cgroupV2 = (await import('node:fs')).existsSync('/sys/fs/cgroup/cgroup.controllers');

async function securityOptions(extraArgs: string[], root?: string): Promise<string[]> {
  const daemon = await startBerthd({ extraArgs, ...(root ? { root } : {}) });
  try {
    const info = await docker(daemon.host, ['info', '--format', '{{json .SecurityOptions}}']);
    assert.equal(info.code, 0, info.stderr);
    return JSON.parse(info.stdout) as string[];
  } finally {
    await daemon.cleanup();
  }
}

test('docker info SecurityOptions: the seccomp profile as configured (builtin, a file, unconfined) and cgroupns when private is the default', { skip: ready ? false : 'needs root and the docker CLI', timeout: 120_000 }, async () => {
  // On cgroup v2 private is the default (as dockerd); on v1 host is, unless configured.
  assert.deepEqual(await securityOptions([]), cgroupV2 ? ['name=seccomp,profile=builtin', 'name=cgroupns'] : ['name=seccomp,profile=builtin']);
  assert.deepEqual(await securityOptions(['--seccomp-profile', 'unconfined', '--default-cgroupns-mode', 'private']), ['name=seccomp,profile=unconfined', 'name=cgroupns']);
  assert.deepEqual(await securityOptions(['--default-cgroupns-mode', 'host']), ['name=seccomp,profile=builtin']);
  const root = await makeTempRoot('berth-seccomp-info-');
  const profile = join(root, 'profile.json');
  await writeFile(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }));
  assert.deepEqual(await securityOptions(['--seccomp-profile', profile], root), [`name=seccomp,profile=${profile}`]);
});
