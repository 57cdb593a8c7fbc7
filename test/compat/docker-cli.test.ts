/** The real docker CLI 28.2 pointed at berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';

describe('docker CLI against berthd', { skip: dockerCliAvailable ? false : 'the docker CLI is not on PATH' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('docker version shows a Server section for berth with API 1.50', async () => {
    const r = await docker(daemon.host, ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nServer: berth\n Engine:\n  Version: +\S+\n  API version: +1\.50 \(minimum version 1\.24\)/);
    assert.match(r.stdout, /\n API version: +1\.50\n/, 'negotiated without downgrade');
  });

  test('docker info shows berth\'s real figures', async () => {
    const r = await docker(daemon.host, ['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\n CPUs: ${os.availableParallelism()}\\n`));
    assert.match(r.stdout, new RegExp(`\\n Docker Root Dir: ${daemon.dataRoot}\\n`));
    assert.match(r.stdout, /\n Storage Driver: overlayfs\n/);
    assert.match(r.stdout, /\n Name: /);
    const formatted = await docker(daemon.host, ['info', '--format', '{{.NCPU}} {{.OSType}} {{.ContainersRunning}}']);
    assert.equal(formatted.stdout, `${os.availableParallelism()} linux 0\n`);
  });

  test('docker events --since 1m --until 0s returns', async () => {
    const r = await docker(daemon.host, ['events', '--since', '1m', '--until', '0s']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('an API version berth does not speak gets the daemon\'s 400 message', async () => {
    const r = await docker(daemon.host, ['version'], { env: { DOCKER_API_VERSION: '1.51' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /client version 1\.51 is too new\. Maximum supported API version is 1\.50/);
  });

  test('docker inspect of a missing object probes and ends with docker\'s message', async () => {
    const r = await docker(daemon.host, ['inspect', 'nothing-here']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such object: nothing-here/);
  });
});

test('with berthd stopped the docker CLI prints its usual cannot-connect error', { skip: dockerCliAvailable ? false : 'the docker CLI is not on PATH' }, async () => {
  const daemon = await startBerthd();
  await daemon.stop();
  try {
    const r = await docker(daemon.host, ['version']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Cannot connect to the Docker daemon at ${daemon.host.replace(/[.]/g, '\\.')}\\. Is the docker daemon running\\?`));
  } finally {
    await daemon.cleanup();
  }
});
