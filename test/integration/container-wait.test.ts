/**
 * POST /containers/{id}/wait whose client goes away: the wait is cancelled, as Docker's request
 * context cancels it. Seen from outside as berthd's memory: every abandoned wait below carries a
 * 1 MiB request body, so a waiter kept for a gone client keeps that megabyte alive, and a berthd
 * whose heap is capped at 160 MiB runs out of memory long before 300 of them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthd } from '../helpers/berthd.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import type { TestDaemon } from '../helpers/berthd.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** berthd's resident memory in MiB, as the kernel counts it. */
function residentMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) / 1024;
}

/** Opens a wait with `body`, waits until berthd answers its headers (the wait is registered), then drops the connection. */
function abandonWait(socketPath: string, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path, headers: { Host: 'berth', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } });
    req.on('response', (res) => {
      res.on('error', () => undefined);
      res.socket.once('close', () => resolve());
      req.removeListener('error', reject);
      req.on('error', () => undefined);
      req.destroy();
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('container wait cancelled by its client', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd({ env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=160' } });
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    assert.equal((await docker(daemon.host, ['import', '-c', 'CMD ["sh"]', rootfs, 'busybox'])).code, 0);
  });
  after(async () => {
    await docker(daemon.host, ['rm', '-f', 'waited']).catch(() => undefined);
    await daemon?.cleanup();
  });

  test('300 abandoned waits (not-running, next-exit, removed) leave berthd\'s memory bounded; docker wait still answers', async () => {
    assert.equal((await docker(daemon.host, ['run', '-d', '--name', 'waited', 'busybox', 'sleep', '600'])).code, 0);
    const body = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
    const conditions = ['not-running', 'next-exit', 'removed'];
    for (let i = 0; i < 300; i++) await abandonWait(daemon.socket, `/containers/waited/wait?condition=${conditions[i % 3]}`, body);
    assert.equal(daemon.process.exitCode, null, `berthd is still running:\n${daemon.logs().slice(-2000)}`);
    const resident = residentMiB(daemon.pid);
    // 300 waiters kept would hold 300 MiB of bodies; cancelled ones leave only garbage-collection slack.
    assert.ok(resident < 300, `berthd holds ${resident.toFixed(0)} MiB after 300 abandoned waits`);

    const waiting = docker(daemon.host, ['wait', 'waited']);
    assert.equal((await docker(daemon.host, ['kill', 'waited'])).code, 0);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.stdout, '137\n');
    assert.equal((await daemon.request('GET', '/_ping')).status, 200);
  });
});
