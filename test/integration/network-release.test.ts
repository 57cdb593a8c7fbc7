/**
 * `docker rm` gives back everything a container held on its networks (address, endpoint, DNS
 * names), whatever state it was in: on a /29 (five addresses) a second round of containers gets
 * addresses again, and the network lists no stale endpoint and can be removed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { ip } from '../helpers/netns.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

/** A 10.194.x.y/29 the host routes nowhere. */
function freeSmallSubnet(): string {
  const routes = ip('-4', 'route', 'show');
  for (;;) {
    const third = randomInt(256);
    if (!routes.includes(`10.194.${third}.`)) return `10.194.${third}.${randomInt(32) * 8}/29`;
  }
}

describe('rm releases what a container reserved on its networks', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('running, exited, created and failed-to-start containers removed: the /29 fills again and lists no endpoint', async (t) => {
    const created = await run('network', 'create', '--subnet', freeSmallSubnet(), 'small');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'small')));
    const containers = () => run('network', 'inspect', 'small', '-f', '{{json .Containers}}').then((r) => JSON.parse(r.stdout) as Record<string, unknown>);

    for (let round = 0; round < 2; round++) {
      const ids: string[] = [];
      // Every address of the /29 taken by a running container; one more does not fit.
      for (let i = 0; i < 5; i++) {
        const r = await run('run', '-d', '--network', 'small', '--name', `c${round}${i}`, 'busybox', 'sleep', '600');
        assert.equal(r.code, 0, `round ${round}, container ${i}: ${r.stderr}`);
        ids.push(r.stdout.trim());
      }
      const full = await run('run', '-d', '--network', 'small', 'busybox', 'true');
      if (full.code === 0) ids.push(full.stdout.trim());
      assert.notEqual(full.code, 0, 'a sixth container got an address on a /29');
      assert.match(full.stderr, /no available IPv4 addresses/);
      const failed = (await run('ps', '-aq', '--no-trunc', '--filter', 'status=created')).stdout.split('\n').filter(Boolean);
      ids.push(...failed);
      assert.equal(Object.keys(await containers()).length, 5);

      // The containers in each state Docker can remove: exited, created (never started), running.
      assert.equal((await run('stop', '-t', '0', ids[0]!)).code, 0);
      assert.equal((await run('create', '--network', 'small', '--name', `idle${round}`, 'busybox', 'true')).code, 0);
      ids.push(`idle${round}`);
      for (const id of ids) assert.equal((await run('rm', '-f', id)).code, 0, id);
      assert.deepEqual(await containers(), {}, `round ${round}: stale endpoints`);
    }
  });
});
