/** The real docker CLI's classic builder (and berth build) against berthd: instructions, stages, cache, errors. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

const FULL_DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS builder
ARG VERSION=0.0
RUN mkdir -p /out && echo "version $VERSION" > /out/version.txt
RUN <<EOF
echo heredoc one > /out/heredoc.txt
echo heredoc two >> /out/heredoc.txt
EOF
COPY <<EOF /out/inline.txt
inline $VERSION
EOF

FROM busybox AS final
MAINTAINER berth tests
LABEL org.example.name="my app" \\
      org.example.tier=web
ENV GREETING="hello world" PATH=/usr/bin:/bin
COPY --from=builder /out/ /opt/
COPY --chown=1000:1000 --chmod=640 src/a.txt /data/
COPY src /data/src
ADD files.tgz /extracted/
ADD --chmod=644 {URL} /downloaded/
COPY src/*.txt notes.md /wild/
WORKDIR /work
USER 1000:1000
EXPOSE 80 53/udp
VOLUME /cache
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD test -f /opt/version.txt
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /opt/version.txt /opt/heredoc.txt /opt/inline.txt /extracted/x.txt /downloaded/remote.txt; stat -c '%u:%g %a %n' /data/a.txt /data/src/sub/b.txt; ls /wild; ls -a /docs 2>&1; pwd; id -u; echo $GREETING"]

FROM final AS never
RUN echo this stage is past the target
`;

describe('docker build on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  let server: Server;
  let url: string;
  const run = (...args: string[]) => docker(daemon.host, args);
  const build = (...args: string[]) => docker(daemon.host, ['build', ...args], { env: { DOCKER_BUILDKIT: '0' } });
  before(async () => {
    daemon = await startBusyboxDaemon();
    server = createServer((_req, res) => res.end('downloaded by ADD\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/remote.txt`;
  });
  after(async () => {
    server?.close();
    await daemon?.cleanup();
  });

  const makeContext = (dockerfile: string) => {
    const dir = mkdtempSync(join(daemon.root, 'ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'src', 'a.txt'), 'a\n');
    writeFileSync(join(dir, 'src', 'sub', 'b.txt'), 'b\n', { mode: 0o600 });
    writeFileSync(join(dir, 'notes.md'), 'notes\n');
    writeFileSync(join(dir, 'secret.key'), 'do not send\n');
    writeFileSync(join(dir, '.dockerignore'), 'secret.key\n*.log\n');
    writeFileSync(join(dir, 'build.log'), 'ignored\n');
    mkdirSync(join(dir, 'arch'));
    writeFileSync(join(dir, 'arch', 'x.txt'), 'from the archive\n');
    spawnSync('tar', ['-czf', join(dir, 'files.tgz'), '-C', join(dir, 'arch'), 'x.txt']);
    return dir;
  };

  test('every instruction, two stages with COPY --from, --target and --build-arg; the image runs as built', async () => {
    const ctx = makeContext(FULL_DOCKERFILE.replace('{URL}', url));
    const r = await build('--build-arg', 'VERSION=1.2', '--target', 'final', '-t', 'localhost/full:1', ctx);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Step 1\/28 : ARG BASE=busybox$/m);
    assert.match(r.stdout, / ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged localhost\/full:1\n/);
    assert.doesNotMatch(r.stdout, /past the target/);
    const out = await run('run', '--rm', 'localhost/full:1');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, [
      'version 1.2', 'heredoc one', 'heredoc two', 'inline 1.2', 'from the archive', 'downloaded by ADD',
      '1000:1000 640 /data/a.txt', '0:0 600 /data/src/sub/b.txt',
      'a.txt', 'notes.md', 'ls: /docs: No such file or directory', '/work', '1000', 'hello world', '',
    ].join('\n'));
    const config = JSON.parse((await run('inspect', '-f', '{{json .Config}}', 'localhost/full:1')).stdout) as Record<string, unknown>;
    assert.deepEqual(config['Entrypoint'], ['/bin/sh', '-c']);
    assert.deepEqual(config['Env'], ['GREETING=hello world', 'PATH=/usr/bin:/bin']);
    assert.equal(config['WorkingDir'], '/work');
    assert.equal(config['User'], '1000:1000');
    assert.deepEqual(config['ExposedPorts'], { '53/udp': {}, '80/tcp': {} });
    assert.deepEqual(config['Labels'], { 'org.example.name': 'my app', 'org.example.tier': 'web' });
    assert.deepEqual(config['Healthcheck'], { Test: ['CMD-SHELL', 'test -f /opt/version.txt'], Interval: 5e9, Timeout: 2e9, Retries: 3 });
    assert.deepEqual(config['Volumes'], { '/cache': {} });
    assert.equal(config['StopSignal'], 'SIGQUIT');
    assert.deepEqual(config['OnBuild'], ['RUN echo triggered > /tmp/onbuild.txt']);
    assert.equal((await run('inspect', '-f', '{{.Author}}', 'localhost/full:1')).stdout.trim(), 'berth tests');
    // .dockerignore kept secret.key out of the context.
    const leak = mkdtempSync(join(daemon.root, 'leak-'));
    writeFileSync(join(leak, 'Dockerfile'), 'FROM localhost/full:1\nUSER 0\nCOPY . /ctx/\nRUN ls -A /ctx > /listing\nCMD ["cat /listing /tmp/onbuild.txt"]\n');
    writeFileSync(join(leak, 'secret.key'), 'x');
    writeFileSync(join(leak, '.dockerignore'), 'secret.key\n');
    const child = await build('-q', leak);
    assert.equal(child.code, 0, child.stderr);
    const listing = await run('run', '--rm', child.stdout.trim());
    assert.equal(listing.stdout, '.dockerignore\nDockerfile\ntriggered\n', 'the ONBUILD trigger ran and secret.key never reached the daemon');
  });

  test('a rebuild uses the cache for every step; changing a copied file rebuilds from that COPY on', async () => {
    const ctx = makeContext('FROM busybox\nENV A=1\nCOPY src/a.txt /a.txt\nRUN cat /a.txt > /copied\nCOPY notes.md /notes.md\nCMD ["cat", "/copied"]\n');
    const cold = await build('-t', 'localhost/cached', ctx);
    assert.equal(cold.code, 0, cold.stderr);
    assert.doesNotMatch(cold.stdout, /Using cache/);
    const warm = await build('-t', 'localhost/cached', ctx);
    assert.equal((warm.stdout.match(/ ---> Using cache/g) ?? []).length, 5, warm.stdout);
    assert.equal(/Successfully built (\w+)/.exec(warm.stdout)![1], /Successfully built (\w+)/.exec(cold.stdout)![1], 'the same image');
    // As the classic builder's parent chain shows it: every step's image and, last, the base.
    const history = (await run('history', '-q', 'localhost/cached')).stdout.trim().split('\n');
    assert.equal(history.length, 6);
    assert.ok(!history.includes('<missing>'), history.join(' '));
    assert.equal(history[5], (await run('images', '-q', 'busybox')).stdout.trim());
    writeFileSync(join(ctx, 'src', 'a.txt'), 'changed\n');
    const changed = await build('-t', 'localhost/cached', ctx);
    const steps = changed.stdout.split(/^Step /m).slice(1);
    assert.deepEqual(steps.map((s) => s.includes('Using cache')), [false, true, false, false, false, false], changed.stdout);
    assert.equal((await run('run', '--rm', 'localhost/cached')).stdout, 'changed\n');
    assert.equal((await build('--no-cache', '-t', 'localhost/cached', ctx)).stdout.includes('Using cache'), false);
  });

  test('a failing RUN, a syntax error and a missing COPY source fail with Docker\'s messages and tag nothing', async () => {
    const failing = makeContext('FROM busybox\nRUN echo from-the-step && exit 3\n');
    const r = await build('-t', 'localhost/broken', failing);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /from-the-step/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo from-the-step && exit 3' returned a non-zero code: 3/);
    // With DOCKER_BUILDKIT unset the CLI falls back to the classic builder too (buildx is absent).
    const syntax = await docker(daemon.host, ['build', '-t', 'localhost/broken', makeContext('FROM busybox\nRUN true\nFOO bar\n')], { env: { DOCKER_BUILDKIT: undefined } });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /Dockerfile parse error line 3: unknown instruction: FOO/);
    const missing = await build('-t', 'localhost/broken', makeContext('FROM busybox\nCOPY nothere.txt /x\n'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat nothere\.txt: file does not exist/);
    const otherPlatform = await build('--platform', 'linux/s390x', '-t', 'localhost/broken', makeContext('FROM busybox\nRUN true\n'));
    assert.equal(otherPlatform.code, 1);
    assert.match(otherPlatform.stderr, /not supported by berth yet: building for platform linux\/s390x/);
    const fromPlatform = await build('-t', 'localhost/broken', makeContext('FROM --platform=linux/s390x busybox\nRUN true\n'));
    assert.match(fromPlatform.stderr, /building for platform linux\/s390x/);
    const unsetPlatform = await build('-q', makeContext('FROM --platform=$BUILDPLATFORM busybox\nRUN true\n'));
    assert.equal(unsetPlatform.code, 0, unsetPlatform.stderr);
    await run('rmi', unsetPlatform.stdout.trim());
    const ignored = await build('-t', 'localhost/broken', makeContext('FROM busybox\nCOPY secret.key /x\n'));
    assert.match(ignored.stderr, /stat secret\.key: file does not exist/);
    assert.equal((await run('images', '-q', 'localhost/broken')).stdout, '');
  });

  test('berth build: -f -, --iidfile, -q, a gzip context from docker --compress, and the build cache in df and prune', async () => {
    const ctx = makeContext('unused');
    const iid = join(ctx, 'iid');
    const r = await berth(daemon.host, ['build', '-f', '-', '--iidfile', iid, '-t', 'localhost/stdin-file', ctx], { input: 'FROM busybox\nCOPY notes.md /\nRUN cat /notes.md > /again\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Step 3\/3 : RUN cat \/notes.md > \/again/);
    assert.match(readFileSync(iid, 'utf8'), /^sha256:[0-9a-f]{64}$/);
    const quiet = await berth(daemon.host, ['build', '-q', '-f', '-', ctx], { input: 'FROM busybox\nRUN echo quiet > /q\n' });
    assert.match(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo gz > /gz\n');
    const gz = await build('--compress', '-t', 'localhost/gz', ctx);
    assert.equal(gz.code, 0, gz.stderr);
    const df = await run('system', 'df', '--format', '{{.Type}} {{.TotalCount}}');
    const cacheCount = Number(/^Build Cache (\d+)$/m.exec(df.stdout)?.[1]);
    assert.ok(cacheCount > 0, df.stdout);
    const listed = (await run('images', '-q')).stdout.split('\n').filter(Boolean).length;
    const all = (await run('images', '-aq')).stdout.split('\n').filter(Boolean).length;
    assert.ok(all > listed, 'intermediate images are listed only with -a');
    const pruned = await run('builder', 'prune', '-f', '-a');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match((await run('system', 'df', '--format', '{{.Type}} {{.TotalCount}}')).stdout, /^Build Cache 0$/m);
    assert.equal((await run('run', '--rm', 'localhost/gz', 'cat', '/gz')).stdout, 'gz\n', 'tagged images survive the prune');
  });

  test('examples/getting-started builds and serves its page through a published port', async () => {
    const example = join(process.cwd(), 'examples', 'getting-started');
    const r = await build('-t', 'getting-started', example);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const id = (await run('run', '-d', '-p', '127.0.0.1::80', 'getting-started')).stdout.trim();
    try {
      const port = /:(\d+)$/.exec((await run('port', id, '80')).stdout.trim())![1];
      let page = '';
      for (let i = 0; i < 50 && !page; i++) {
        page = await fetch(`http://127.0.0.1:${port}/`).then((res) => (res.ok ? res.text() : ''), () => '');
        if (!page) await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(page, readFileSync(join(example, 'site', 'index.html'), 'utf8'));
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('--cache-from: a loaded image (no local build cache) stands in for the steps it was built by', async () => {
    const ctx = makeContext('FROM busybox\nENV STAGE=one\nCOPY src/a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCMD ["cat", "/b.txt"]\n');
    assert.equal((await build('-t', 'localhost/origin:1', ctx)).code, 0);
    const archive = join(ctx, 'origin.tar');
    assert.equal((await run('save', '-o', archive, 'localhost/origin:1')).code, 0);
    assert.equal((await run('builder', 'prune', '-a', '-f')).code, 0);
    assert.equal((await run('rmi', 'localhost/origin:1')).code, 0);
    assert.equal((await run('load', '-i', archive)).code, 0);
    const without = await build('-t', 'localhost/rebuilt:1', ctx.replace(/$/, ''), '--no-cache');
    assert.doesNotMatch(without.stdout, /Using cache/);
    await run('rmi', 'localhost/rebuilt:1');
    assert.equal((await run('builder', 'prune', '-a', '-f')).code, 0);
    const withCache = await build('--cache-from', 'localhost/origin:1', '-t', 'localhost/rebuilt:2', ctx);
    assert.equal(withCache.code, 0, withCache.stderr);
    assert.equal((withCache.stdout.match(/ ---> Using cache/g) ?? []).length, 4, withCache.stdout);
    assert.equal((await run('run', '--rm', 'localhost/rebuilt:2')).stdout, 'a\n');
  });
});
