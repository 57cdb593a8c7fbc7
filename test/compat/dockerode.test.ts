/** dockerode (the Node Docker client) against berthd: create, start, wait, demuxed logs, hijacked exec, buildImage. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { buildTar } from '../../src/archive/tar-writer.js';
import Docker from 'dockerode';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** Collects a demultiplexed stream into stdout and stderr text. */
function demux(client: Docker, stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  client.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve({ stdout, stderr }));
    stream.on('error', reject);
  });
}

describe('dockerode on berthd', { skip: ready ? false : 'needs root, the docker CLI (to import the image), conmon and runc' }, () => {
  let daemon: TestDaemon;
  let client: Docker;
  before(async () => {
    daemon = await startBusyboxDaemon();
    client = new Docker({ socketPath: daemon.socket });
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('create, start, wait and demultiplexed logs', async () => {
    const container = await client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'] });
    try {
      // As with Docker, wait (condition not-running) on a created container returns at once: start first.
      await container.start();
      assert.deepEqual(await container.wait(), { StatusCode: 4, Error: null });
      const logs = (await container.logs({ stdout: true, stderr: true, follow: true })) as unknown as NodeJS.ReadableStream;
      assert.deepEqual(await demux(client, logs), { stdout: 'out\n', stderr: 'err\n' });
      const info = await container.inspect();
      assert.equal(info.State.ExitCode, 4);
      assert.equal(info.State.Status, 'exited');
    } finally {
      await container.remove({ force: true });
    }
  });

  test('a hijacked exec takes stdin and reports its exit code', async () => {
    const container = await client.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    try {
      await container.start();
      const exec = await container.exec({ Cmd: ['sh', '-c', 'read line; echo "got $line"; exit 5'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: true });
      const output = demux(client, stream);
      stream.write('hello\n');
      const { stdout } = await output;
      assert.equal(stdout, 'got hello\n');
      const result = await exec.inspect();
      assert.equal(result.ExitCode, 5);
      assert.equal(result.Running, false);
    } finally {
      await container.remove({ force: true });
    }
  });

  test('listing and an unknown image\'s 404 come through dockerode\'s own error', async () => {
    const list = await client.listContainers({ all: true });
    assert.ok(Array.isArray(list));
    await assert.rejects(client.createContainer({ Image: 'localhost:1/nosuch:latest' }), (err: { statusCode?: number; message: string }) => {
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /No such image: localhost:1\/nosuch:latest/);
      return true;
    });
  });

  test('buildImage streams the classic builder\'s messages and the image runs', async () => {
    const context = buildTar([
      { name: 'Dockerfile', data: 'FROM busybox\nCOPY greeting.txt /greeting.txt\nRUN echo built >> /greeting.txt\nCMD ["cat", "/greeting.txt"]\n' },
      { name: 'greeting.txt', data: 'from dockerode\n' },
    ]);
    const stream = await client.buildImage(Readable.from([context]), { t: 'localhost/from-dockerode:1' });
    const messages = await new Promise<{ stream?: string; aux?: { ID: string }; error?: string }[]>((resolve, reject) => {
      client.modem.followProgress(stream, (err: Error | null, output: { stream?: string; aux?: { ID: string }; error?: string }[]) => (err ? reject(err) : resolve(output)));
    });
    assert.ok(messages.some((m) => m.stream?.startsWith('Step 1/4 : FROM busybox')));
    assert.ok(messages.some((m) => m.aux?.ID?.startsWith('sha256:')));
    assert.ok(!messages.some((m) => m.error));
    const container = await client.createContainer({ Image: 'localhost/from-dockerode:1' });
    await container.start();
    assert.equal((await container.wait()).StatusCode, 0);
    const logs = (await container.logs({ stdout: true })) as unknown as Buffer;
    assert.match(logs.toString(), /from dockerode\n.*built\n/s);
    await container.remove();
  });
});
