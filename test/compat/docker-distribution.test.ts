/**
 * The real docker CLI pushing to and pulling from Debian's docker-registry (distribution 2.8)
 * through berthd: plain, with htpasswd, and with token auth from a token server in front of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
import { distributionAvailable, freeLoopbackPort, startDistribution, type DistributionRegistry } from '../helpers/distribution-registry.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const ready = dockerCliAvailable && distributionAvailable;

describe('docker push and pull through berthd', { skip: ready ? false : 'needs the docker CLI and Debian docker-registry (scripts/setup installs it)' }, () => {
  let daemon: TestDaemon;
  let rootfs: string;
  let configDir: string;
  before(async () => {
    daemon = await startBerthd();
    rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    configDir = mkdtempSync(join(tmpdir(), 'berth-docker-login-'));
  });
  after(async () => {
    await daemon?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });
  const run = (...args: string[]) => docker(daemon.host, args, { configDir });

  describe('without auth', () => {
    let registry: DistributionRegistry;
    before(async () => {
      registry = await startDistribution();
    });
    after(() => registry?.stop());

    test('tag, push, rmi, pull gives back the same image ID and RepoDigests; a second push says "Layer already exists"', async () => {
      const ref = `${registry.host}/accept/busybox:1`;
      const id = (await run('import', rootfs, 'local/busybox:1')).stdout.trim();
      assert.equal((await run('tag', 'local/busybox:1', ref)).code, 0);
      const push = await run('push', ref);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, new RegExp(`^The push refers to repository \\[${registry.host}/accept/busybox\\]\\n`));
      assert.match(push.stdout, /: Pushed\n/);
      const digest = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(push.stdout)?.[1];
      assert.ok(digest, push.stdout);
      const again = await run('push', ref);
      assert.match(again.stdout, /: Layer already exists\n/);

      assert.equal((await run('rmi', ref, 'local/busybox:1')).code, 0);
      const pull = await run('pull', ref);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, /Pull complete\n/);
      assert.match(pull.stdout, new RegExp(`Digest: ${digest}\\nStatus: Downloaded newer image for ${ref.replace(/[.]/g, '\\.')}\\n`));
      const inspect = JSON.parse((await run('image', 'inspect', ref)).stdout)[0] as { Id: string; RepoDigests: string[] };
      assert.equal(inspect.Id, id);
      assert.deepEqual(inspect.RepoDigests, [`${registry.host}/accept/busybox@${digest}`]);

      const byDigest = await run('pull', `${registry.host}/accept/busybox@${digest}`);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      assert.match(byDigest.stdout, /Status: Image is up to date for /);
    });

    test('docker run of an image that is only in the registry pulls it, then runs it', { skip: process.getuid?.() === 0 && toolAvailable('conmon') ? false : 'needs root and conmon' }, async () => {
      const ref = `${registry.host}/accept/runnable:1`;
      await run('import', '-c', 'CMD ["sh"]', rootfs, ref);
      assert.equal((await run('push', ref)).code, 0);
      assert.equal((await run('rmi', ref)).code, 0);
      const r = await run('run', '--rm', ref, 'echo', 'pulled and ran');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`Unable to find image '${ref.replace(/[.]/g, '\\.')}' locally`));
      assert.equal(r.stdout, 'pulled and ran\n');
    });

    test('pulling a tag that does not exist fails as Docker does', async () => {
      const r = await run('pull', `${registry.host}/accept/busybox:nope`);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /manifest for .*accept\/busybox:nope not found: manifest unknown/);
    });
  });

  describe('with htpasswd auth', () => {
    let registry: DistributionRegistry;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-htpasswd-'));
      writeFileSync(join(dir, 'htpasswd'), `tester:${bcrypt.hashSync('secret', 5)}\n`);
      registry = await startDistribution({ auth: `  htpasswd:\n    realm: test\n    path: ${join(dir, 'htpasswd')}` });
    });
    after(async () => {
      await registry?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('without login a push and a pull fail with an auth error; after docker login they work', async () => {
      const ref = `${registry.host}/private/busybox:1`;
      await run('import', rootfs, ref);
      const denied = await run('push', ref);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /no basic auth credentials|unauthorized/);
      const badLogin = await docker(daemon.host, ['login', '-u', 'tester', '--password-stdin', registry.host], { configDir, input: 'wrong\n' });
      assert.notEqual(badLogin.code, 0);
      assert.match(badLogin.stderr, /unauthorized/);
      const login = await docker(daemon.host, ['login', '-u', 'tester', '--password-stdin', registry.host], { configDir, input: 'secret\n' });
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      const push = await run('push', ref);
      assert.equal(push.code, 0, push.stderr);
      await run('rmi', ref);
      const pull = await run('pull', ref);
      assert.equal(pull.code, 0, pull.stderr);
      await run('logout', registry.host);
      await run('rmi', ref);
      const anonymous = await run('pull', ref);
      assert.notEqual(anonymous.code, 0);
      assert.match(anonymous.stderr, /no basic auth credentials|unauthorized/);
    });
  });

  describe('with token auth', { skip: toolAvailable('openssl') ? false : 'openssl is missing' }, () => {
    let registry: DistributionRegistry;
    let tokenServer: TestRegistry;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
      writeFileSync(join(dir, 'htpasswd'), `pusher:${bcrypt.hashSync('letmein', 5)}\n`);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=berth-test-token', '-days', '1'], { stdio: 'ignore' });
      // berth-registry's /token endpoint is the token server (as Docker Hub's auth service is).
      const tokenPort = await freeLoopbackPort();
      tokenServer = await startRegistry({
        port: tokenPort,
        args: ['--htpasswd', join(dir, 'htpasswd'), '--anonymous-pull', '--token-realm', `http://127.0.0.1:${tokenPort}/token`, '--token-issuer', 'berth-token-server', '--token-service', 'test-registry', '--token-key', join(dir, 'key.pem')],
      });
      registry = await startDistribution({
        auth: `  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: test-registry\n    issuer: berth-token-server\n    rootcertbundle: ${join(dir, 'cert.pem')}`,
      });
    });
    after(async () => {
      await registry?.stop();
      await tokenServer?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('authenticated pushes and anonymous pulls work, as with Docker Hub', async () => {
      const ref = `${registry.host}/public/busybox:1`;
      await run('import', rootfs, ref);
      const anonymousPush = await run('push', ref);
      assert.notEqual(anonymousPush.code, 0, 'pushing needs credentials');
      const login = await docker(daemon.host, ['login', '-u', 'pusher', '--password-stdin', registry.host], { configDir, input: 'letmein\n' });
      assert.equal(login.code, 0, login.stderr);
      const push = await run('push', ref);
      assert.equal(push.code, 0, push.stderr);
      await run('logout', registry.host);
      await run('rmi', ref);
      const pull = await run('pull', ref);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, /Downloaded newer image/);
    });
  });
});
