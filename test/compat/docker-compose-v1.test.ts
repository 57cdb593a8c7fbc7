/**
 * docker-compose 1.29 (Debian 12's Python compose, docker-py 5) end to end on berthd: build, up with
 * a health condition, a named network and volume, a published port, .env interpolation, exec, logs,
 * scale, change-and-up, restart, down -v. Like with Docker 25 and newer, compose 1.29 needs
 * COMPOSE_API_VERSION at 1.44 or below to recreate containers: it reads image inspect's
 * ContainerConfig, which the Engine API dropped in 1.45.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable, type CliResult } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { freeLoopbackPort } from '../helpers/ports.js';

const composeAvailable = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
const skip = !composeAvailable
  ? 'docker-compose 1.29 is not installed (Debian package docker-compose, installed by scripts/setup)'
  : !(dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc'))
    ? 'needs root, the docker CLI (compose builds through it), conmon and runc'
    : false;

const PROJECT = 'c18compose';

const composeFile = `version: "2.4"
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo ready > /data/state && echo db-started && exec sleep 1000"]
    volumes:
      - dbdata:/data
    networks: [backend]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "test", "-f", "/data/state"]
      interval: 1s
      timeout: 2s
      retries: 30
  web:
    build:
      context: ./web
      args:
        GREETING: \${GREETING}
    image: ${PROJECT}-web
    environment:
      GREETING: \${GREETING}
    ports:
      - "127.0.0.1:\${WEB_PORT}:80"
    networks: [backend]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_healthy
  worker:
    image: busybox
    command: ["sh", "-c", "echo worker-\${WORKER_WORD} && exec sleep 1000"]
    networks: [backend]
    stop_grace_period: 1s
networks:
  backend: {}
volumes:
  dbdata: {}
`;

const dockerfile = `FROM busybox
ARG GREETING
RUN mkdir -p /www && echo "$GREETING" > /www/index.html
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`;

/** GET http://127.0.0.1:port/, retried until it answers: the server in the container starts after compose returns. */
async function fetchLoopback(port: number, deadlineMs = 30_000): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('docker-compose 1.29 on berthd', { skip }, () => {
  let daemon: TestDaemon;
  let dir: string;
  let port: number;
  let dockerConfig: string;

  const writeEnv = (greeting: string, workerWord: string) => writeFile(join(dir, '.env'), `GREETING=${greeting}\nWEB_PORT=${port}\nWORKER_WORD=${workerWord}\n`);

  const compose = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const env = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_CONFIG: dockerConfig, DOCKER_CONTEXT: undefined, COMPOSE_API_VERSION: '1.44', DOCKER_CLI_HINTS: 'false' };
      const child = spawn('docker-compose', ['--no-ansi', '-p', PROJECT, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const run = (...args: string[]) => docker(daemon.host, args, { configDir: dockerConfig });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
  const projectContainers = async () =>
    (await run('ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}} {{.ID}}')).stdout.split('\n').filter(Boolean).sort();
  const startedAt = async (name: string) => (await run('inspect', '-f', '{{.State.StartedAt}}', name)).stdout.trim();
  const containerId = async (name: string) => (await run('inspect', '-f', '{{.Id}}', name)).stdout.trim();

  before(async () => {
    daemon = await startBusyboxDaemon();
    dir = await mkdtemp(join(tmpdir(), 'berth-compose-v1-'));
    dockerConfig = join(dir, '.docker');
    await mkdir(dockerConfig);
    await mkdir(join(dir, 'web'));
    await writeFile(join(dir, 'web', 'Dockerfile'), dockerfile);
    await writeFile(join(dir, 'docker-compose.yml'), composeFile);
    port = await freeLoopbackPort();
    await writeEnv('hello-from-env', 'up');
  });
  after(async () => {
    if (daemon && dir) await compose('down', '-v', '--remove-orphans').catch(() => undefined);
    await daemon?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('build makes the image from local busybox; building again with the cache gives the same image ID', async () => {
    ok(await compose('build'), 'build');
    const first = (await run('image', 'inspect', '-f', '{{.Id}}', `${PROJECT}-web`)).stdout.trim();
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    ok(await compose('build'), 'second build');
    assert.equal((await run('image', 'inspect', '-f', '{{.Id}}', `${PROJECT}-web`)).stdout.trim(), first);
  });

  test('up -d waits for the healthy db, publishes the port on 127.0.0.1 and interpolates .env', async () => {
    ok(await compose('up', '-d'), 'up -d');
    assert.equal((await run('inspect', '-f', '{{.State.Health.Status}}', `${PROJECT}_db_1`)).stdout.trim(), 'healthy', 'web started only after db was healthy');
    assert.equal(await fetchLoopback(port), 'hello-from-env\n');
    const networks = (await run('inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', `${PROJECT}_web_1`)).stdout.trim();
    assert.equal(networks, `${PROJECT}_backend`);
    assert.equal((await run('volume', 'inspect', '-f', '{{.Name}}', `${PROJECT}_dbdata`)).code, 0);
    assert.equal((await projectContainers()).length, 3);
  });

  test('exec runs in the service container with its environment; logs show each service', async () => {
    const exec = await compose('exec', '-T', 'web', 'sh', '-c', 'echo "$GREETING"; cat /www/index.html');
    ok(exec, 'exec');
    assert.equal(exec.stdout, 'hello-from-env\nhello-from-env\n');
    const execDb = await compose('exec', '-T', 'db', 'cat', '/data/state');
    assert.equal(execDb.stdout, 'ready\n');
    const logs = await compose('logs', '--no-color', 'db', 'worker');
    ok(logs, 'logs');
    assert.match(logs.stdout, /db_1\s+\| db-started/);
    assert.match(logs.stdout, /worker_1\s+\| worker-up/);
  });

  test('--scale worker=2 adds a second worker and leaves the rest up to date', async () => {
    const webId = await containerId(`${PROJECT}_web_1`);
    const up = await compose('up', '-d', '--scale', 'worker=2');
    ok(up, 'up --scale');
    assert.match(up.stderr, /web_1 is up-to-date/);
    const names = (await projectContainers()).map((line) => line.split(' ')[0]);
    assert.deepEqual(names, [`${PROJECT}_db_1`, `${PROJECT}_web_1`, `${PROJECT}_worker_1`, `${PROJECT}_worker_2`]);
    assert.equal(await containerId(`${PROJECT}_web_1`), webId);
  });

  test('a changed service is recreated by up -d (compose reads ContainerConfig at API 1.44); the others stay', async () => {
    const dbId = await containerId(`${PROJECT}_db_1`);
    const oldWorker = await containerId(`${PROJECT}_worker_1`);
    await writeEnv('hello-from-env', 'changed');
    const up = await compose('up', '-d', '--scale', 'worker=2');
    ok(up, 'up after the change');
    assert.doesNotMatch(up.stderr + up.stdout, /KeyError|Traceback/);
    assert.notEqual(await containerId(`${PROJECT}_worker_1`), oldWorker);
    assert.equal(await containerId(`${PROJECT}_db_1`), dbId);
    const logs = await compose('logs', '--no-color', 'worker');
    assert.match(logs.stdout, /worker_1\s+\| worker-changed/);
    assert.match(logs.stdout, /worker_2\s+\| worker-changed/);
    // A rebuilt image with new content is a new image ID, and so a recreated web.
    const webId = await containerId(`${PROJECT}_web_1`);
    await writeEnv('second-greeting', 'changed');
    ok(await compose('up', '-d', '--build', '--scale', 'worker=2'), 'up --build');
    assert.notEqual(await containerId(`${PROJECT}_web_1`), webId);
    assert.equal(await fetchLoopback(port), 'second-greeting\n');
  });

  test('restart restarts every service container in place', async () => {
    const before = await startedAt(`${PROJECT}_db_1`);
    const id = await containerId(`${PROJECT}_db_1`);
    ok(await compose('restart'), 'restart');
    assert.notEqual(await startedAt(`${PROJECT}_db_1`), before);
    assert.equal(await containerId(`${PROJECT}_db_1`), id);
    assert.equal((await run('inspect', '-f', '{{.State.Running}}', `${PROJECT}_db_1`)).stdout.trim(), 'true');
    assert.equal(await fetchLoopback(port), 'second-greeting\n');
  });

  test('down -v leaves no container, network or volume of the project', async () => {
    ok(await compose('down', '-v'), 'down -v');
    assert.deepEqual(await projectContainers(), []);
    const networks = (await run('network', 'ls', '--format', '{{.Name}}')).stdout.split('\n');
    assert.equal(networks.includes(`${PROJECT}_backend`), false);
    const volumes = (await run('volume', 'ls', '--format', '{{.Name}}')).stdout.split('\n');
    assert.equal(volumes.includes(`${PROJECT}_dbdata`), false);
  });
});
