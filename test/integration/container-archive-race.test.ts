/**
 * CVE-2018-15664: docker cp on a running container whose process swaps a directory and a symlink
 * to the host in a loop. berth resolves a path inside the container's root once; while the
 * container runs, the kernel may then meet a symlink at that name and follow it to the host.
 * The copy must act on a still container: nothing lands in the host's victim directory and no host
 * file comes out in an archive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/**
 * Requests in all, from PARALLEL clients at once against SWAPPERS swapping loops: before the fix
 * this met the symlink within the first 50 to 250 requests in every trial; concurrency widens
 * berthd's window between resolving a path and using it.
 */
const REQUESTS = 1000;
const PARALLEL = 4;
const SWAPPERS = 2;
/** A bound on the whole loop, whatever the machine's speed. */
const LOOP_DEADLINE_MS = 240_000;
/** Files in each swapped directory: each one packed or written is another chance to meet the symlink. */
const FILES = 64;

/** One API call; a copy cut short midway (the daemon ends the tar on an error) still yields what came. */
function archiveRequest(socket: string, method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status = 0;
    const done = () => resolve({ status, body: Buffer.concat(chunks).toString('latin1') });
    const req = request({ socketPath: socket, method, path, headers: { Host: 'berth', 'Content-Type': 'application/x-tar' } }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', done);
    req.end(body);
  });
}

describe('docker cp against a container swapping a directory and a symlink', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);

  test('neither PUT nor GET archive reaches the host through the swapped name', async () => {
    const marker = `berth-cp-marker-${randomBytes(4).toString('hex')}`;
    const hostSecret = `HOST-ONLY-${randomBytes(8).toString('hex')}`;
    // The container's swapped directories and the host's victim directory hold files of the same
    // names: a copy that meets the symlink midway reads or writes the host's instead.
    const names = Array.from({ length: FILES }, (_, n) => `f-${n}`);
    const victim = mkdtempSync(join(daemon.root, 'victim-'));
    for (const name of names) writeFileSync(join(victim, name), `${hostSecret}\n`);
    // Each /xK is a directory, then missing, then a symlink to the victim (a path only the host has), then missing again.
    const swapper = [
      `for k in $(seq 1 ${SWAPPERS}); do mkdir -p /x$k; for n in $(seq 0 ${FILES - 1}); do echo inside > /x$k/f-$n; done; ln -s ${victim} /x$k.l`,
      `(i=0; while [ $i -lt 100000 ]; do mv /x$k /x$k.d; mv /x$k.l /x$k; mv /x$k /x$k.l; mv /x$k.d /x$k; i=$((i+1)); done) & done`,
      'touch /ready; wait',
    ].join('; ');
    const id = (await run('run', '-d', 'busybox', 'sh', '-c', swapper)).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    try {
      for (let i = 0; i < 50 && (await run('exec', id, 'test', '-e', '/ready')).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const tar = buildTar(names.map((name) => ({ name: `${marker}-${name}`, data: 'from cp\n' })));
      const leaks = new Set<string>();
      const landedOutside = () => readdirSync(victim).length !== FILES;
      const count = { put: 0, get: 0, requests: 0 };
      const deadline = Date.now() + LOOP_DEADLINE_MS;
      const worker = async (w: number) => {
        for (let round = 0; count.requests < REQUESTS && Date.now() < deadline && leaks.size === 0 && !landedOutside(); round++) {
          const dir = `/x${1 + ((round + w) % SWAPPERS)}`;
          for (const path of [`${dir}/f-${round % FILES}`, dir]) {
            // A copy cut short by an error still counts: its bytes went out.
            const got = await archiveRequest(daemon.socket, 'GET', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
            count.requests++;
            if (got.status === 200) count.get++;
            if (got.status === 200 && got.body.includes(hostSecret)) leaks.add(`GET ${path} packed a file of the host's victim directory`);
          }
          const put = await archiveRequest(daemon.socket, 'PUT', `/containers/${id}/archive?path=${dir}`, tar);
          count.requests++;
          if (put.status === 200) count.put++;
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
      assert.deepEqual(readdirSync(victim).sort(), [...names].sort(), 'nothing was written into the host directory the symlink names');
      assert.ok(!readdirSync('/').some((name) => name.startsWith(marker) || name.startsWith('.berth-cp-')), 'nothing was written at the host\'s /');
      assert.deepEqual([...leaks], [], 'no host file was read into an archive');
      // Copies did work while a directory stood: the race was really run.
      assert.ok(count.put > 0 && count.get > 0, `some copies succeeded (${count.put} PUT, ${count.get} GET of ${count.requests})`);
      // Every copy thawed the container again: it runs and is not paused.
      assert.equal((await run('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', id)).stdout, 'running false\n');
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('a failed copy thaws the container; a container its user paused stays paused', async () => {
    const id = (await run('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    try {
      const state = async () => (await run('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', id)).stdout;
      const missing = await archiveRequest(daemon.socket, 'GET', `/containers/${id}/archive?path=/no/such`);
      assert.equal(missing.status, 404);
      const badTar = await archiveRequest(daemon.socket, 'PUT', `/containers/${id}/archive?path=/tmp`, Buffer.alloc(1024, 'x'));
      assert.equal(badTar.status, 400);
      assert.equal(await state(), 'running false\n');
      assert.equal((await run('pause', id)).code, 0);
      const out = await archiveRequest(daemon.socket, 'GET', `/containers/${id}/archive?path=/etc/passwd`);
      assert.equal(out.status, 200);
      assert.match(out.body, /root:/);
      assert.equal(await state(), 'paused true\n');
      assert.equal((await run('unpause', id)).code, 0);
    } finally {
      await run('rm', '-f', id);
    }
  });
});
