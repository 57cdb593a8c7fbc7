import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { berth } from '../helpers/cli.js';

describe('berth CLI against berthd', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('berth version prints Client and Server sections', async () => {
    const r = await berth(daemon.host, ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Client: berth\n Version: +\S+\n API version: +1\.50\n/);
    assert.match(r.stdout, /\n\nServer: berth\n Engine:\n  Version: +\S+\n  API version: +1\.50 \(minimum version 1\.24\)\n/);
    assert.match(r.stdout, /  OS\/Arch: +linux\//);
  });

  test('berth version --format reads the same data docker\'s template does', async () => {
    const r = await berth(daemon.host, ['version', '--format', '{{.Server.ApiVersion}}|{{.Client.ApiVersion}}|{{(index .Server.Components 0).Name}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1.50|1.50|Engine\n');
  });

  test('berth info shows the real figures', async () => {
    const r = await berth(daemon.host, ['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\n CPUs: ${os.availableParallelism()}\\n`));
    assert.match(r.stdout, new RegExp(`\\n Docker Root Dir: ${daemon.dataRoot}\\n`));
    assert.match(r.stdout, /\n Containers: 0\n  Running: 0\n/);
    assert.match(r.stdout, new RegExp(`\\n Kernel Version: ${os.release().replace(/[.+]/g, '\\$&')}\\n`));
    const json = await berth(daemon.host, ['info', '--format', '{{json .}}']);
    assert.equal(JSON.parse(json.stdout).MemTotal, os.totalmem());
  });

  test('berth events with --until in the past returns', async () => {
    const r = await berth(daemon.host, ['events', '--since', '1m', '--until', '0s']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('-H beats BERTH_HOST, which beats DOCKER_HOST', async () => {
    const bogus = `unix://${join(daemon.root, 'nobody.sock')}`;
    assert.equal((await berth(bogus, ['-H', daemon.host, 'info', '--format', '{{.ID}}'])).code, 0);
    assert.equal((await berth(undefined, ['info', '--format', '{{.ID}}'], { env: { DOCKER_HOST: daemon.host } })).code, 0);
    const r = await berth(bogus, ['info'], { env: { DOCKER_HOST: daemon.host } });
    assert.equal(r.code, 1);
  });

  test('flag errors exit 125 with a usage hint', async () => {
    const r = await berth(daemon.host, ['events', '--nope']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "unknown flag: --nope\nSee 'berth events --help'.\n");
  });

  test('a daemon error is printed as docker prints it', async () => {
    const r = await berth(daemon.host, ['events', '--until', '0s', '--filter', 'colour=red']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error response from daemon: invalid filter 'colour'\n");
  });

  test('an unknown command says so', async () => {
    const r = await berth(daemon.host, ['frobnicate']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command: berth frobnicate/);
  });
});

test('with no daemon, berth prints the cannot-connect message', async () => {
  const r = await berth('unix:///nonexistent/berth-test.sock', ['info']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Cannot connect to the berth daemon at unix:///nonexistent/berth-test.sock. Is the daemon running?\n');
  const version = await berth('unix:///nonexistent/berth-test.sock', ['version']);
  assert.equal(version.code, 1);
  assert.match(version.stdout, /^Client: berth\n/, 'the client section still prints');
});
