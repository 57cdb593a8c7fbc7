/**
 * berthd killed while containers start: after a restart, removing every container and a clean
 * stop, nothing of this daemon's networking is left on the host (network namespaces, veths, the
 * bridge, the nftables table), and a namespace of another daemon is left alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, watch } from 'node:fs';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');
const NETNS = '/run/netns';

/** Resolves with the first entry of /run/netns that starts with `prefix` (as soon as it appears). */
function firstNamespace(prefix: string): { appeared: Promise<string>; cancel: () => void } {
  mkdirSync(NETNS, { recursive: true });
  let cancel = () => undefined as void;
  const appeared = new Promise<string>((resolve) => {
    const watcher = watch(NETNS, (_event, name) => {
      if (name?.startsWith(prefix)) {
        watcher.close();
        resolve(name);
      }
    });
    cancel = () => watcher.close();
    const present = readdirSync(NETNS).find((n) => n.startsWith(prefix));
    if (present) {
      watcher.close();
      resolve(present);
    }
  });
  return { appeared, cancel };
}

describe('networking after berthd is killed during parallel starts', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('SIGKILL as the first sandbox appears, restart, rm -f everything, stop: no netns, veth or table of the daemon remains', async (t) => {
    const prefix = `berth-${daemon.bridge}-`;
    // Another daemon's namespace (same naming scheme, other bridge): this daemon's reconcile must not touch it.
    const foreign = `berth-${daemon.bridge}x-${'0'.repeat(64)}`;
    assert.equal(spawnSync('ip', ['netns', 'add', foreign]).status, 0);
    t.after(() => void spawnSync('ip', ['netns', 'delete', foreign]));

    // Whatever the outcome, none of this daemon's namespaces outlives the test.
    t.after(() => {
      for (const n of readdirSync(NETNS).filter((n) => n.startsWith(prefix))) spawnSync('ip', ['netns', 'delete', n]);
    });
    const watcher = firstNamespace(prefix);
    t.after(watcher.cancel);
    const runs = Array.from({ length: 12 }, () => run('run', '-d', 'busybox', 'sleep', '600'));
    await watcher.appeared;
    daemon.process.kill('SIGKILL');
    await daemon.stop();
    await Promise.all(runs);

    daemon = await startBerthd({ root: daemon.root });
    const ids = (await run('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
    assert.ok(ids.length > 0, 'some containers were created before the kill');
    for (const id of ids) assert.equal((await run('rm', '-f', id)).code, 0);
    assert.equal(await daemon.stop(), 0);

    assert.deepEqual(readdirSync(NETNS).filter((n) => n.startsWith(prefix)), [], 'network namespaces left');
    const links = readdirSync('/sys/class/net');
    assert.deepEqual(links.filter((n) => ids.some((id) => n.startsWith(`veth${id.slice(0, 7)}`))), [], 'veths left');
    assert.equal(existsSync(`/sys/class/net/${daemon.bridge}`), false, 'bridge left');
    assert.equal(spawnSync('nft', ['list', 'table', 'ip', `berth_${daemon.bridge}`]).status, 1, 'nftables table left');
    assert.equal(existsSync(`${NETNS}/${foreign}`), true, 'another daemon\'s namespace removed');
    daemon = await startBerthd({ root: daemon.root });
  });
});
