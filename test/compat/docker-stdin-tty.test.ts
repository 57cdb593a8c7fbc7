/** Attached stdin and TTYs: the real docker CLI and berth's, through conmon's attach socket. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('socat') && toolAvailable('script');

/** Runs a command on a pseudo-terminal (util-linux script), stdin held open for `holdMs`. */
function underScript(command: string, env: NodeJS.ProcessEnv, holdMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    // script sends its stdin's EOF to the terminal: hold stdin open until the command is done.
    const timer = setTimeout(() => child.stdin.end(), holdMs);
    child.on('close', () => clearTimeout(timer));
  });
}

describe('attached stdin and TTYs', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, socat and script' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('echo hi | docker run -i --rm IMG cat prints hi', async () => {
    const r = await docker(daemon.host, ['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  test('stdin reaches the container whole, and its EOF ends the command (berth run -i)', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const r = await berth(daemon.host, ['run', '-i', '--rm', 'busybox', 'md5sum'], { input: data });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${createHash('md5').update(data).digest('hex')}  -\n`);
  });

  test('without -i, input is not passed on and the command sees an empty stdin', async () => {
    const r = await docker(daemon.host, ['run', '--rm', 'busybox', 'wc', '-c'], { input: 'ignored\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0');
  });

  test('docker run -it --rm IMG tty prints /dev/pts/0 under script', async () => {
    const env = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_CLI_HINTS: 'false' };
    const r = await underScript('docker run -it --rm busybox tty', env, 8000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^\/dev\/pts\/0\r\n$/);
  });

  test('berth run -it: an interactive shell reads commands and exits with its code', async () => {
    const r = await berth(daemon.host, ['run', '-it', '--rm', 'busybox', 'sh', '-c', 'read line; echo "got $line"; exit 7'], { input: 'hello\n' });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, /got hello\r\n/);
  });

  test('a TTY takes ConsoleSize at create and follows POST /containers/{id}/resize', async () => {
    const create = await daemon.request('POST', '/containers/create', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'stty size; read go; stty size'], Tty: true, OpenStdin: true, HostConfig: { ConsoleSize: [30, 100] } }),
    });
    assert.equal(create.status, 201, create.body);
    const id = (JSON.parse(create.body) as { Id: string }).Id;
    try {
      assert.equal((await daemon.request('POST', `/containers/${id}/start`)).status, 204);
      assert.equal((await daemon.request('POST', `/containers/${id}/resize?h=33&w=77`)).status, 200);
      const attach = await berth(daemon.host, ['attach', id], { input: 'go\n' });
      assert.equal(attach.code, 0, attach.stderr);
      const logs = await docker(daemon.host, ['logs', id]);
      assert.match(logs.stdout, /^30 100\r\ngo\r\n33 77\r\n$/);
    } finally {
      await docker(daemon.host, ['rm', '-f', id]);
    }
  });

  test('ctrl-p ctrl-q detaches from a TTY container and leaves it running', async () => {
    const id = (await docker(daemon.host, ['run', '-dit', 'busybox', 'sh'])).stdout.trim();
    try {
      const attach = await berth(daemon.host, ['attach', id], { input: Buffer.from([0x10, 0x11]) });
      assert.equal(attach.code, 0, attach.stderr);
      const state = JSON.parse((await docker(daemon.host, ['inspect', id])).stdout)[0] as { State: { Running: boolean } };
      assert.equal(state.State.Running, true);
    } finally {
      await docker(daemon.host, ['rm', '-f', id]);
    }
  });

  test('docker exec -t and -it: a TTY in a running container, stdin, resize and the exit code', async () => {
    const id = (await docker(daemon.host, ['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
    try {
      const tty = await docker(daemon.host, ['exec', '-t', id, 'sh', '-c', 'tty; echo "TERM=$TERM"; exit 5']);
      assert.equal(tty.code, 5, tty.stderr);
      assert.equal(tty.stdout, '/dev/pts/0\r\nTERM=xterm\r\n', 'one raw stream, CRLF from the pty');
      const env = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_CLI_HINTS: 'false' };
      const sized = await underScript(`stty cols 91 rows 27; docker exec -it ${id} sh -c 'sleep 0.5; stty size'`, env, 8000);
      assert.equal(sized.code, 0, sized.output);
      assert.match(sized.output, /27 91\r\n/, 'the exec follows the client terminal through POST /exec/{id}/resize');
      const shell = await berth(daemon.host, ['exec', '-it', id, 'sh', '-c', 'read line; echo "got $line"; exit 3'], { input: 'typed\n' });
      assert.equal(shell.code, 3, shell.stderr);
      assert.match(shell.stdout, /got typed\r\n/);
      const missing = await docker(daemon.host, ['exec', '-t', id, '/no/such']);
      assert.equal(missing.code, 127);
      assert.match(missing.stdout + missing.stderr, /no such file or directory/);
      assert.doesNotMatch(readdirSync(join(daemon.execRoot, 'containers', id)).join(' '), /exec-/, 'each exec\'s conmon directory is removed');
    } finally {
      await docker(daemon.host, ['rm', '-f', id]);
    }
  });

  test('docker attach to a stopped container is refused', async () => {
    const id = (await docker(daemon.host, ['create', 'busybox', 'true'])).stdout.trim();
    try {
      const r = await docker(daemon.host, ['attach', id]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /You cannot attach to a stopped container, start it first/);
    } finally {
      await docker(daemon.host, ['rm', '-f', id]);
    }
  });
});
