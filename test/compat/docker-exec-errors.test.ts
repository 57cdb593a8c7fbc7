/**
 * Every way `docker exec` can fail, through the real docker CLI: what it prints and its exit code
 * are Docker's. A refusal before the stream is hijacked is a JSON error response; a failure after
 * it is text inside the stream with exit code 126 or 127, never raw HTTP the CLI cannot frame.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import type { TestDaemon } from '../helpers/berthd.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** POST /exec/{id}/start with `Connection: Upgrade`, as the docker CLI sends it: the status line and body seen. */
function hijackedStart(socketPath: string, execId: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ Detach: false, Tty: false });
    const req = request({
      socketPath,
      method: 'POST',
      path: `/v1.50/exec/${execId}/start`,
      headers: { Host: 'berth', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('docker exec errors on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let up: string;
  before(async () => {
    daemon = await startBusyboxDaemon();
    up = (await docker(daemon.host, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '600'])).stdout.trim();
  });
  after(async () => {
    await docker(daemon.host, ['rm', '-f', 'up', 'down', 'paused', 'stops']).catch(() => undefined);
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);

  test('into a stopped container: "container X is not running", exit 1', async () => {
    const id = (await run('create', '--name', 'down', 'busybox', 'true')).stdout.trim();
    const r = await run('exec', 'down', 'true');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: container ${id} is not running\n`);
  });

  test('into a paused container: Docker\'s "is paused, unpause the container before exec", exit 1', async () => {
    assert.equal((await run('run', '-d', '--name', 'paused', 'busybox', 'sleep', '600')).code, 0);
    assert.equal((await run('pause', 'paused')).code, 0);
    const r = await run('exec', 'paused', 'true');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: Container paused is paused, unpause the container before exec\n');
  });

  test('an unknown user: Docker\'s text in the stream and exit 126, with and without -t; -d answers the error', async () => {
    const r = await run('exec', '-u', 'nope', 'up', 'true');
    assert.equal(r.code, 126, r.stdout + r.stderr);
    assert.equal(r.stdout + r.stderr, 'unable to find user nope: no matching entries in passwd file\r\n');
    const tty = await run('exec', '-t', '-u', 'nope', 'up', 'true');
    assert.equal(tty.code, 126, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /^unable to find user nope: no matching entries in passwd file\r\n$/);
    const detached = await run('exec', '-d', '-u', 'nope', 'up', 'true');
    assert.equal(detached.code, 1);
    assert.equal(detached.stderr, 'Error response from daemon: unable to find user nope: no matching entries in passwd file\n');
  });

  test('a working directory that is not there: the runtime\'s reason, exit 126', async () => {
    const r = await run('exec', '-w', '/nope', 'up', 'true');
    assert.equal(r.code, 126, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /^OCI runtime exec failed: .*chdir to cwd \("\/nope"\) set in config.json failed: no such file or directory: unknown\r?\n$/);
  });

  test('a missing executable exits 127, one that cannot run 126, each with the runtime\'s reason', async () => {
    const missing = await run('exec', 'up', 'nosuch');
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /exec: "nosuch": executable file not found in \$PATH: unknown/);
    const absolute = await run('exec', 'up', '/no/such');
    assert.equal(absolute.code, 127);
    assert.match(absolute.stdout + absolute.stderr, /exec: "\/no\/such": stat \/no\/such: no such file or directory: unknown/);
    const notExecutable = await run('exec', 'up', '/etc/passwd');
    assert.equal(notExecutable.code, 126);
    assert.match(notExecutable.stdout + notExecutable.stderr, /exec: "\/etc\/passwd": permission denied: unknown/);
  });

  test('exec start refused before the hijack is a JSON error response: no such exec, container stopped since create', async () => {
    const unknown = await hijackedStart(daemon.socket, 'no-such-exec');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: 'No such exec instance: no-such-exec' });

    const id = (await run('run', '-d', '--name', 'stops', 'busybox', 'sleep', '600')).stdout.trim();
    const created = await daemon.request('POST', `/containers/${id}/exec`, { body: JSON.stringify({ Cmd: ['true'], AttachStdout: true }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(created.status, 201, created.body);
    const execId = (JSON.parse(created.body) as { Id: string }).Id;
    assert.equal((await run('stop', '-t', '0', 'stops')).code, 0);
    const stopped = await hijackedStart(daemon.socket, execId);
    assert.equal(stopped.status, 409);
    assert.deepEqual(JSON.parse(stopped.body), { message: `container ${id} is not running` });
    const detached = await daemon.request('POST', `/exec/${execId}/start`, { body: JSON.stringify({ Detach: true }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(detached.status, 409, detached.body);
  });

  test('after all these failures a good exec still runs', async () => {
    const ok = await run('exec', up, 'echo', 'fine');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'fine\n');
  });
});
