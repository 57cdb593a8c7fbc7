/**
 * Replays what the real docker CLI 28.2.2 sent, command by command and in order, against one
 * berthd, and checks each answer's status and the shape the CLI's Go types read from it (create's
 * Id and Warnings array, inspect's State, the image list's fields, ...). The capture's stub IDs
 * are replaced by the IDs berthd gave; requests the test cannot make here (Docker Hub, a TTY, a
 * hijacked stream) are left out by leaving out their command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HttpResult, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { loadCapturedCommands, nonEmpty, optional, orNull, requestTarget, shapeProblems, type CapturedRequest, type Shape } from '../helpers/captured-requests.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

interface Answer {
  status: number | number[];
  /** The body as one JSON document. */
  json?: Shape;
  /** A newline-delimited JSON stream: some line has this shape and no line is an error. */
  lines?: Shape;
  headers?: Record<string, RegExp>;
  /** Sent without waiting (a long poll: wait); its answer is checked after the rest. */
  deferred?: boolean;
}

interface Context {
  daemon: TestDaemon;
  dir: string;
  /** The stub's IDs in the capture -> the ones berthd gave. */
  container?: string;
  exec?: string;
}

interface Row {
  command: string;
  /** One per captured HTTP request, in order. */
  answers: Answer[];
  prepare?: (ctx: Context) => Promise<void>;
  /** The body to send instead of the capture's placeholder (tar uploads) or with a change. */
  body?: (request: CapturedRequest, ctx: Context) => { body: string | Buffer; type: string } | undefined;
}

// The Go types of github.com/docker/docker/api/types the CLI decodes into.
const PING: Answer = { status: 200, headers: { 'api-version': /^1\.50$/, ostype: /^linux$/ } };
const EMPTY_OK = { status: 200 };
const NO_CONTENT = { status: 204 };
const ERROR: Shape = { message: 'string' };
const CREATE_RESPONSE: Shape = { Id: 'string', Warnings: ['string'] };
const ID_RESPONSE: Shape = { Id: 'string' };
const PORT: Shape = { PrivatePort: 'integer', Type: 'string', IP: optional('string'), PublicPort: optional('integer') };
const CONTAINER_SUMMARY: Shape = {
  Id: 'string', Names: nonEmpty(['string']), Image: 'string', ImageID: 'string', Command: 'string', Created: 'integer',
  Ports: [PORT], Labels: orNull('any'), State: 'string', Status: 'string', HostConfig: { NetworkMode: 'string' },
  NetworkSettings: { Networks: orNull('any') }, Mounts: orNull(['any']),
};
const CONTAINER_INSPECT: Shape = {
  Id: 'string', Created: 'string', Path: 'string', Args: ['string'],
  State: { Status: 'string', Running: 'boolean', Paused: 'boolean', Restarting: 'boolean', OOMKilled: 'boolean', Dead: 'boolean', Pid: 'integer', ExitCode: 'integer', Error: 'string', StartedAt: 'string', FinishedAt: 'string' },
  Image: 'string', ResolvConfPath: 'string', HostnamePath: 'string', HostsPath: 'string', LogPath: 'string', Name: 'string', RestartCount: 'integer', Driver: 'string', Platform: 'string',
  MountLabel: 'string', ProcessLabel: 'string', AppArmorProfile: 'string', ExecIDs: orNull(['string']),
  HostConfig: { NetworkMode: 'string', RestartPolicy: { Name: 'string', MaximumRetryCount: 'integer' }, PortBindings: orNull('any'), AutoRemove: 'boolean', Binds: orNull(['string']), LogConfig: { Type: 'string', Config: orNull('any') } },
  GraphDriver: { Name: 'string', Data: orNull('any') },
  Mounts: [{ Type: 'string', Source: 'string', Destination: 'string', Mode: 'string', RW: 'boolean', Propagation: 'string' }],
  Config: { Hostname: 'string', Domainname: 'string', User: 'string', AttachStdin: 'boolean', AttachStdout: 'boolean', AttachStderr: 'boolean', Tty: 'boolean', OpenStdin: 'boolean', StdinOnce: 'boolean', Env: orNull(['string']), Cmd: orNull(['string']), Image: 'string', Volumes: orNull('any'), WorkingDir: 'string', Entrypoint: orNull(['string']), Labels: orNull('any') },
  NetworkSettings: { SandboxID: 'string', SandboxKey: 'string', Ports: orNull('any'), Networks: orNull('any') },
};
const IMAGE_SUMMARY: Shape = { Id: 'string', ParentId: 'string', RepoTags: orNull(['string']), RepoDigests: orNull(['string']), Created: 'integer', Size: 'integer', SharedSize: 'integer', Labels: orNull('any'), Containers: 'integer' };
const NETWORK: Shape = {
  Name: 'string', Id: 'string', Created: 'string', Scope: 'string', Driver: 'string', EnableIPv6: 'boolean',
  IPAM: { Driver: 'string', Options: orNull('any'), Config: orNull([{ Subnet: optional('string'), Gateway: optional('string') }]) },
  Internal: 'boolean', Attachable: 'boolean', Ingress: 'boolean', ConfigFrom: { Network: 'string' }, ConfigOnly: 'boolean', Containers: orNull('any'), Options: orNull('any'), Labels: orNull('any'),
};
const VOLUME: Shape = { Name: 'string', Driver: 'string', Mountpoint: 'string', CreatedAt: optional('string'), Labels: orNull('any'), Scope: 'string', Options: orNull('any') };
const WAIT_RESPONSE: Shape = { StatusCode: 'integer', Error: optional({ Message: 'string' }) };
const PRUNE_SPACE = 'integer';

const ROWS: Row[] = [
  { command: 'docker version', answers: [PING, { status: 200, json: { Version: 'string', ApiVersion: 'string', MinAPIVersion: 'string', GitCommit: 'string', GoVersion: 'string', Os: 'string', Arch: 'string', KernelVersion: 'string', BuildTime: optional('string'), Platform: { Name: 'string' }, Components: nonEmpty([{ Name: 'string', Version: 'string', Details: optional('any') }]) } }] },
  {
    command: 'docker info',
    answers: [PING, { status: 200, json: {
      ID: 'string', Containers: 'integer', ContainersRunning: 'integer', ContainersPaused: 'integer', ContainersStopped: 'integer', Images: 'integer', Driver: 'string', DriverStatus: orNull([['string']]),
      Plugins: { Volume: orNull(['string']), Network: orNull(['string']), Log: orNull(['string']) }, MemoryLimit: 'boolean', SwapLimit: 'boolean', CpuCfsPeriod: 'boolean', CpuCfsQuota: 'boolean',
      KernelVersion: 'string', OperatingSystem: 'string', OSType: 'string', Architecture: 'string', NCPU: 'integer', MemTotal: 'integer', DockerRootDir: 'string', Name: 'string', Labels: orNull(['string']),
      ServerVersion: 'string', Runtimes: 'any', DefaultRuntime: 'string', CgroupDriver: 'string', CgroupVersion: 'string', Swarm: { LocalNodeState: 'string' }, SecurityOptions: orNull(['string']),
      RegistryConfig: orNull({ IndexConfigs: orNull('any') }), Warnings: orNull(['string']),
    } }],
  },
  { command: 'docker images', answers: [PING, { status: 200, json: nonEmpty([IMAGE_SUMMARY]) }] },
  { command: 'docker tag alpine localhost:5000/alpine:v1', answers: [PING, { status: 201 }] },
  { command: 'docker create --name web', answers: [PING, { status: 201, json: CREATE_RESPONSE }] },
  {
    command: 'docker run -d -p 80:80 nginx',
    answers: [PING, { status: 201, json: CREATE_RESPONSE }, { status: 200, json: WAIT_RESPONSE, deferred: true }, NO_CONTENT],
    // Host port 80 is not this test's to take: an ephemeral one instead.
    body: (request) => (request.path.endsWith('/containers/create') ? { body: JSON.stringify(request.body).replace('"HostPort":"80"', '"HostPort":""'), type: 'application/json' } : undefined),
  },
  { command: 'docker start fake', answers: [PING, NO_CONTENT] },
  { command: 'docker ps', answers: [PING, { status: 200, json: nonEmpty([CONTAINER_SUMMARY]) }] },
  { command: 'docker ps -a -q', answers: [PING, { status: 200, json: nonEmpty([CONTAINER_SUMMARY]) }] },
  { command: 'docker ps --filter status=exited -n 2', answers: [PING, { status: 200, json: nonEmpty([CONTAINER_SUMMARY]) }] },
  { command: 'docker inspect fake', answers: [PING, { status: 200, json: CONTAINER_INSPECT }] },
  { command: 'docker logs --tail 10 -t fake', answers: [PING, { status: 200, json: CONTAINER_INSPECT }, { status: 200, headers: { 'content-type': /^application\/vnd\.docker\.multiplexed-stream$/ } }] },
  { command: 'docker exec -d fake sleep 1', answers: [PING, { status: 200, json: CONTAINER_INSPECT }, { status: 201, json: ID_RESPONSE }, EMPTY_OK] },
  { command: 'docker top fake', answers: [PING, { status: 200, json: { Titles: nonEmpty(['string']), Processes: nonEmpty([['string']]) } }] },
  {
    command: 'docker stats --no-stream fake',
    answers: [PING, { status: 200, json: {
      id: 'string', name: 'string', read: 'string', preread: 'string', num_procs: 'integer', pids_stats: 'any', blkio_stats: 'any',
      cpu_stats: { cpu_usage: { total_usage: 'integer' }, system_cpu_usage: optional('integer'), online_cpus: optional('integer') },
      precpu_stats: { cpu_usage: { total_usage: 'integer' } }, memory_stats: { usage: optional('integer'), limit: optional('integer') }, networks: optional('any'),
    } }],
  },
  { command: 'docker cp fake:/etc/hosts ./hosts.out', answers: [PING, { status: 200, headers: { 'content-type': /^application\/x-tar$/, 'x-docker-container-path-stat': /^[A-Za-z0-9+/]+=*$/ } }] },
  {
    command: 'docker cp ./app.txt fake:/tmp/',
    answers: [PING, { status: 200, headers: { 'x-docker-container-path-stat': /^[A-Za-z0-9+/]+=*$/ } }, EMPTY_OK],
    body: (request, ctx) => (request.method === 'PUT' ? { body: readFileSync(join(ctx.dir, 'app.tar')), type: 'application/x-tar' } : undefined),
  },
  { command: 'docker diff fake', answers: [PING, { status: 200, json: nonEmpty([{ Path: 'string', Kind: 'integer' }]) }] },
  { command: 'docker network create mynet', answers: [PING, { status: 201, json: { Id: 'string', Warning: optional('string') } }] },
  { command: 'docker network ls', answers: [PING, { status: 200, json: nonEmpty([NETWORK]) }] },
  { command: 'docker network rm mynet', answers: [PING, { status: 200, json: NETWORK }, NO_CONTENT] },
  { command: 'docker network create mynet', answers: [PING, { status: 201, json: { Id: 'string', Warning: optional('string') } }] },
  { command: 'docker network connect --alias web mynet fake', answers: [PING, EMPTY_OK] },
  { command: 'docker volume create data', answers: [PING, { status: 201, json: VOLUME }] },
  { command: 'docker volume ls', answers: [PING, { status: 200, json: { Volumes: orNull([VOLUME]), Warnings: orNull(['string']) } }] },
  { command: 'docker update --memory 512m fake', answers: [PING, { status: 200, json: { Warnings: orNull(['string']) } }] },
  { command: 'docker pause fake', answers: [PING, NO_CONTENT] },
  {
    command: 'docker commit fake img:v1',
    answers: [PING, { status: 201, json: ID_RESPONSE }],
    prepare: async ({ daemon }) => void (await daemon.request('POST', '/containers/fake/unpause')),
  },
  { command: 'docker rename fake fake2', answers: [PING, NO_CONTENT] },
  {
    command: 'docker kill -s HUP fake',
    answers: [PING, NO_CONTENT],
    prepare: async ({ daemon }) => void (await daemon.request('POST', '/containers/fake2/rename?name=fake')),
  },
  { command: 'docker restart fake', answers: [PING, NO_CONTENT] },
  { command: 'docker stop -t 3 fake', answers: [PING, NO_CONTENT] },
  { command: 'docker wait fake', answers: [PING, { status: 200, json: WAIT_RESPONSE }] },
  { command: 'docker start fake', answers: [PING, NO_CONTENT] },
  { command: 'docker kill fake', answers: [PING, NO_CONTENT] },
  { command: 'docker stop fake', answers: [PING, { status: 304 }] },
  { command: 'docker rm fake', answers: [PING, NO_CONTENT] },
  {
    command: 'docker inspect nothing',
    answers: [PING, { status: 404, json: ERROR }, { status: 404, json: ERROR }, { status: 404, json: ERROR }, { status: 404, json: ERROR }, { status: 200, json: { ID: 'string' } }, { status: 404, json: ERROR }],
  },
  {
    command: 'docker volume rm data',
    answers: [PING, NO_CONTENT],
    prepare: async ({ daemon }) => void (await daemon.request('DELETE', '/containers/web')),
  },
  {
    command: 'docker system df',
    answers: [PING, { status: 200, json: { LayersSize: 'integer', Images: [IMAGE_SUMMARY], Containers: [{ ...(CONTAINER_SUMMARY as Record<string, Shape>), SizeRw: optional('integer') }], Volumes: [{ ...(VOLUME as Record<string, Shape>), UsageData: { Size: 'integer', RefCount: 'integer' } }], BuildCache: orNull(['any']) } }],
  },
  { command: 'docker events --since 1m --until 0s --filter type=container', answers: [PING, { status: 200, headers: { 'content-type': /^application\/json$/ } }] },
  { command: 'docker save -o x.tar alpine', answers: [PING, { status: 200, headers: { 'content-type': /^application\/x-tar$/ } }] },
  {
    command: 'docker load -i x.tar',
    answers: [PING, { status: 200, lines: { stream: 'string' } }],
    prepare: async ({ daemon, dir }) => assert.equal((await docker(daemon.host, ['save', '-o', join(dir, 'x.tar'), 'alpine'])).code, 0),
    body: (request, ctx) => (request.method === 'POST' ? { body: readFileSync(join(ctx.dir, 'x.tar')), type: 'application/x-tar' } : undefined),
  },
  {
    command: 'DOCKER_BUILDKIT=0 docker build -t demo --build-arg FOO=bar ctx',
    answers: [PING, { status: 200, lines: { aux: { ID: 'string' } } }],
    body: (request, ctx) => (request.method === 'POST' ? { body: readFileSync(join(ctx.dir, 'ctx.tar')), type: 'application/x-tar' } : undefined),
  },
  { command: 'docker rmi alpine', answers: [PING, { status: 200, json: nonEmpty([{ Untagged: optional('string'), Deleted: optional('string') }]) }] },
  {
    command: 'docker system prune -f',
    answers: [
      PING,
      { status: 200, json: { ContainersDeleted: orNull(['string']), SpaceReclaimed: PRUNE_SPACE } },
      { status: 200, json: { NetworksDeleted: orNull(['string']) } },
      { status: 200, json: { ImagesDeleted: orNull([{ Untagged: optional('string'), Deleted: optional('string') }]), SpaceReclaimed: PRUNE_SPACE } },
      { status: 200, json: { CachesDeleted: orNull(['string']), SpaceReclaimed: PRUNE_SPACE } },
    ],
  },
  {
    command: 'docker system prune -af --volumes',
    answers: [
      PING,
      { status: 200, json: { ContainersDeleted: orNull(['string']), SpaceReclaimed: PRUNE_SPACE } },
      { status: 200, json: { NetworksDeleted: orNull(['string']) } },
      { status: 200, json: { VolumesDeleted: orNull(['string']), SpaceReclaimed: PRUNE_SPACE } },
      { status: 200, json: { ImagesDeleted: orNull([{ Untagged: optional('string'), Deleted: optional('string') }]), SpaceReclaimed: PRUNE_SPACE } },
      { status: 200, json: { CachesDeleted: orNull(['string']), SpaceReclaimed: PRUNE_SPACE } },
    ],
  },
];

/** The capture's stub IDs (c0ffee..., e1ec...) replaced by berthd's. */
function withIds(target: string, ctx: Context): string {
  let out = target;
  if (ctx.container) out = out.replace(/c0ffee0{58}/g, ctx.container).replace(/c0ffee0{6}/g, ctx.container.slice(0, 12));
  if (ctx.exec) out = out.replace(/e1ec0{60}/g, ctx.exec);
  return out;
}

/** What is wrong with one answer, as lines (none when it is what the CLI reads). */
function answerProblems(res: HttpResult, answer: Answer): string[] {
  const problems: string[] = [];
  const statuses = Array.isArray(answer.status) ? answer.status : [answer.status];
  if (!statuses.includes(res.status)) problems.push(`status ${res.status}, expected ${statuses.join(' or ')}: ${res.body.slice(0, 300)}`);
  for (const [name, pattern] of Object.entries(answer.headers ?? {})) {
    const value = String(res.headers[name] ?? '');
    if (!pattern.test(value)) problems.push(`header ${name}: ${JSON.stringify(value)} does not match ${pattern}`);
  }
  if (answer.json !== undefined) {
    try {
      problems.push(...shapeProblems(JSON.parse(res.body), answer.json));
    } catch {
      problems.push(`body is not JSON: ${JSON.stringify(res.body.slice(0, 200))}`);
    }
  }
  if (answer.lines !== undefined) {
    const lines = res.body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = lines.filter((l) => 'error' in l || 'errorDetail' in l);
    if (failed.length > 0) problems.push(`stream carries an error: ${JSON.stringify(failed[0])}`);
    if (!lines.some((l) => shapeProblems(l, answer.lines!).length === 0)) problems.push(`no line of the stream has the shape the CLI reads: ${res.body.slice(0, 300)}`);
  }
  return problems;
}

describe('captured docker CLI requests replayed against berthd, answers checked', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  const ctx = {} as Context;
  const captured = loadCapturedCommands();
  before(async () => {
    // The capture names images "alpine" and "nginx": busybox imports stand in for them.
    ctx.daemon = await startBusyboxDaemon([{ tag: 'alpine', changes: ['CMD ["sh"]'] }, { tag: 'nginx', changes: ['CMD ["sh"]', 'EXPOSE 80'] }]);
    ctx.dir = join(ctx.daemon.root, 'uploads');
    mkdirSync(join(ctx.dir, 'ctx'), { recursive: true });
    writeFileSync(join(ctx.dir, 'app.txt'), 'app\n');
    execFileSync('tar', ['-cf', join(ctx.dir, 'app.tar'), '-C', ctx.dir, 'app.txt']);
    writeFileSync(join(ctx.dir, 'ctx', 'Dockerfile'), 'FROM alpine\nARG FOO\nRUN echo "$FOO" > /foo\n');
    execFileSync('tar', ['-cf', join(ctx.dir, 'ctx.tar'), '-C', join(ctx.dir, 'ctx'), 'Dockerfile']);
    // "fake", created and not started: TERM ends it at once (as PID 1 it has no default handler).
    // "fake" as the docker CLI creates it (its body for `docker run nginx`, without the port).
    const cliBody = captured.find((c) => c.command.startsWith('docker run -d -p 80:80 nginx'))!.requests.find((r) => r.path.endsWith('/containers/create'))!.body as Record<string, unknown>;
    const fake = await ctx.daemon.request('POST', '/v1.50/containers/create?name=fake', {
      body: JSON.stringify({
        ...cliBody,
        Image: 'alpine',
        Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
        ExposedPorts: {},
        HostConfig: { ...(cliBody['HostConfig'] as Record<string, unknown>), PortBindings: {} },
      }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(fake.status, 201, fake.body);
  });
  after(async () => {
    await ctx.daemon?.cleanup();
  });

  for (const row of ROWS) {
    test(row.command, async () => {
      const command = captured.find((c) => c.command.startsWith(row.command));
      assert.ok(command, `${row.command} is in the capture`);
      const requests = command.requests.filter((r) => r.kind === 'http');
      assert.equal(requests.length, row.answers.length, `${row.command}: one expected answer per captured request`);
      await row.prepare?.(ctx);
      const deferred: { label: string; answer: Answer; result: Promise<HttpResult> }[] = [];
      for (const [index, request] of requests.entries()) {
        const answer = row.answers[index]!;
        const replaced = row.body?.(request, ctx);
        const body = replaced?.body ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
        const type = replaced?.type ?? 'application/json';
        const target = withIds(requestTarget(request), ctx);
        const label = `${request.method} ${target}`;
        const result = ctx.daemon.request(request.method, target, { body, headers: body === undefined ? {} : { 'Content-Type': type } });
        if (answer.deferred) {
          deferred.push({ label, answer, result });
          continue;
        }
        const res = await result;
        assert.deepEqual(answerProblems(res, answer), [], label);
        if (res.status === 201 && /\/containers\/create$/.test(request.path)) ctx.container = (JSON.parse(res.body) as { Id: string }).Id;
        if (res.status === 201 && /\/exec$/.test(request.path)) ctx.exec = (JSON.parse(res.body) as { Id: string }).Id;
      }
      for (const { label, answer, result } of deferred) assert.deepEqual(answerProblems(await result, answer), [], label);
    });
  }
});
