/**
 * testcontainers for Node (12.0.1, the newest whose dependencies run on Node 20) against a private
 * berthd: each wait strategy (HTTP, log message, health check, listening ports), exposed ports on
 * ephemeral host ports, files copied in, exec, a network with an alias reached from a second
 * container, restart and stop. The reaper (ryuk) is off only because its image is on Docker Hub.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, Network, Wait, type StartedTestContainer } from 'testcontainers';
import { type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

const IMAGE = 'tc-web:1';
const WEB = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

describe('testcontainers against berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const started: StartedTestContainer[] = [];
  const start = async (container: GenericContainer) => {
    const s = await container.start();
    started.push(s);
    return s;
  };
  const inspect = async (id: string) => JSON.parse((await docker(daemon.host, ['inspect', id])).stdout)[0] as { State: { Status: string; Health?: { Status: string } } };

  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: IMAGE, changes: ['CMD ["sh"]', 'EXPOSE 80'] }]);
    // testcontainers reads these when it first needs a client, after the daemon is up.
    process.env['DOCKER_HOST'] = daemon.host;
    process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  });
  after(async () => {
    for (const container of started) await container.stop().catch(() => undefined);
    await daemon?.cleanup();
  });

  test('withExposedPorts + Wait.forHttp: the page answers on the mapped ephemeral port', async () => {
    const web = await start(new GenericContainer(IMAGE).withCommand(WEB).withExposedPorts(80).withWaitStrategy(Wait.forHttp('/', 80)));
    const port = web.getMappedPort(80);
    assert.ok(port > 0);
    const page = await (await fetch(`http://${web.getHost()}:${port}/`)).text();
    assert.match(page, /^hello from [0-9a-f]{12}\n$/);
    assert.equal((await inspect(web.getId())).State.Status, 'running');
  });

  test('Wait.forListeningPorts (the default) checks the host port and the port inside', async () => {
    const web = await start(new GenericContainer(IMAGE).withCommand(WEB).withExposedPorts(80).withWaitStrategy(Wait.forListeningPorts()));
    assert.match(await (await fetch(`http://${web.getHost()}:${web.getMappedPort(80)}/`)).text(), /^hello from /);
  });

  test('Wait.forLogMessage waits for the line, and exec runs in the container', async () => {
    const box = await start(new GenericContainer(IMAGE).withCommand(['sh', '-c', 'echo warming up; echo "ready to serve" >&2; exec sleep 300']).withWaitStrategy(Wait.forLogMessage(/ready to serve/)));
    const result = await box.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
  });

  test('withHealthCheck + Wait.forHealthCheck: started once the check passes', async () => {
    const box = await start(
      new GenericContainer(IMAGE)
        .withCommand(['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 300'])
        .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 500, timeout: 1000, retries: 10, startPeriod: 0 })
        .withWaitStrategy(Wait.forHealthCheck()),
    );
    assert.equal((await inspect(box.getId())).State.Health?.Status, 'healthy');
  });

  test('withCopyFilesToContainer and withCopyContentToContainer put files in before start', async () => {
    const source = join(daemon.root, 'page.html');
    writeFileSync(source, 'copied page\n');
    const web = await start(
      new GenericContainer(IMAGE)
        .withCommand(['httpd', '-f', '-p', '80', '-h', '/www'])
        .withCopyFilesToContainer([{ source, target: '/www/index.html' }])
        .withCopyContentToContainer([{ content: 'from content\n', target: '/www/other.txt', mode: 0o640 }])
        .withExposedPorts(80)
        .withWaitStrategy(Wait.forHttp('/', 80)),
    );
    assert.equal(await (await fetch(`http://${web.getHost()}:${web.getMappedPort(80)}/`)).text(), 'copied page\n');
    const listed = await web.exec(['sh', '-c', 'cat /www/other.txt; stat -c %a /www/other.txt']);
    assert.equal(listed.output, 'from content\n640\n');
  });

  test('withNetwork + withNetworkAliases: a second container reaches the first by its alias', async () => {
    const network = await new Network().start();
    const onNetwork: StartedTestContainer[] = [];
    try {
      const server = await new GenericContainer(IMAGE).withCommand(WEB).withNetwork(network).withNetworkAliases('backend').withExposedPorts(80).withWaitStrategy(Wait.forHttp('/', 80)).start();
      onNetwork.push(server);
      const client = await new GenericContainer(IMAGE).withCommand(['sleep', '300']).withNetwork(network).start();
      onNetwork.push(client);
      const fetched = await client.exec(['wget', '-qO-', 'http://backend/']);
      assert.equal(fetched.exitCode, 0, fetched.output);
      assert.match(fetched.stdout, /^hello from /);
      // With an alias testcontainers creates on the default bridge and connects before start (so
      // on both, as with Docker); without one the network is the NetworkMode, the only network.
      assert.deepEqual(server.getNetworkNames().sort(), ['bridge', network.getName()].sort());
      assert.deepEqual(client.getNetworkNames(), [network.getName()]);
    } finally {
      // The network can go only once its containers have.
      for (const container of onNetwork) await container.stop();
      await network.stop();
    }
  });

  test('restart keeps serving on the (newly picked) mapped port, and stop removes the container', async () => {
    const web = await start(new GenericContainer(IMAGE).withCommand(WEB).withExposedPorts(80).withWaitStrategy(Wait.forHttp('/', 80)));
    await web.restart();
    assert.match(await (await fetch(`http://${web.getHost()}:${web.getMappedPort(80)}/`)).text(), /^hello from /);
    const id = web.getId();
    await web.stop();
    const listed = await docker(daemon.host, ['ps', '-a', '-q', '--no-trunc']);
    assert.ok(!listed.stdout.includes(id), 'stop removes the container, as testcontainers asks');
  });
});
