/** Real clients against berth-registry: skopeo and podman (Debian), with and without auth. */
import { freeLoopbackPort } from '../helpers/ports.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startRegistry, rawRequest, type TestRegistry } from '../helpers/registry.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
import { writeOciLayout } from '../helpers/oci-layout.js';

const run = promisify(execFile);
const hasSkopeo = toolAvailable('skopeo');
const hasPodman = toolAvailable('podman');


describe('real registry clients', { skip: hasSkopeo ? false : 'skopeo is not installed (scripts/setup installs it)' }, () => {
  let dir: string;
  let layout: string;
  let manifestDigest: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-clients-'));
    layout = join(dir, 'layout');
    manifestDigest = writeOciLayout(layout, makeBusyboxRootfs(join(dir, 'busybox.tar')), 'v1').manifestDigest;
    writeFileSync(join(dir, 'htpasswd'), `bob:${bcrypt.hashSync('builder', 5)}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 16 * 1024 * 1024 });

  const roundTrip = async (registry: TestRegistry, repo: string, creds?: string) => {
    const credArgs = (flag: string) => (creds ? [flag, creds] : []);
    await skopeo('copy', '-q', '--dest-tls-verify=false', ...credArgs('--dest-creds'), `oci:${layout}:v1`, `docker://${registry.host}/${repo}:v1`);
    const { stdout } = await skopeo('inspect', '--tls-verify=false', ...credArgs('--creds'), `docker://${registry.host}/${repo}:v1`);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, manifestDigest, 'the manifest is served byte for byte');
    const back = join(dir, `back-${repo.replace(/\W/g, '-')}`);
    await skopeo('copy', '-q', '--src-tls-verify=false', ...credArgs('--src-creds'), `docker://${registry.host}/${repo}:v1`, `oci:${back}:v1`);
    const index = JSON.parse(readFileSync(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, manifestDigest);
  };

  test('skopeo copy both ways, no auth', async () => {
    const registry = await startRegistry();
    try {
      await roundTrip(registry, 'plain/busybox');
      // a second repository mounts the blobs instead of uploading them again
      await skopeo('copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${registry.host}/plain/busybox:v1`, `docker://${registry.host}/plain/copy:v1`);
      const tags = await rawRequest(registry.port, 'GET', '/v2/plain/copy/tags/list');
      assert.deepEqual(tags.json<{ tags: string[] }>().tags, ['v1']);
    } finally {
      await registry.cleanup();
    }
  });

  test('skopeo copy both ways with htpasswd auth; without credentials it is refused', async () => {
    const registry = await startRegistry({ args: ['--htpasswd', join(dir, 'htpasswd')] });
    try {
      await assert.rejects(skopeo('copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.host}/auth/busybox:v1`), /unauthorized|authentication required/i);
      await roundTrip(registry, 'auth/busybox', 'bob:builder');
    } finally {
      await registry.cleanup();
    }
  });

  test('skopeo copy both ways through token auth', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'token.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const port = await freeLoopbackPort();
    const registry = await startRegistry({
      port,
      args: ['--htpasswd', join(dir, 'htpasswd'), '--token-realm', `http://127.0.0.1:${port}/token`, '--token-issuer', 'berth-test', '--token-key', join(dir, 'token.key')],
    });
    try {
      await roundTrip(registry, 'token/busybox', 'bob:builder');
    } finally {
      await registry.cleanup();
    }
  });

  test('podman push and pull', { skip: hasPodman ? false : 'podman is not installed (scripts/setup installs it)' }, async () => {
    const registry = await startRegistry({ args: ['--htpasswd', join(dir, 'htpasswd')] });
    const storage = join(dir, 'podman');
    const podman = (...args: string[]) =>
      run('podman', ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    try {
      await skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'bob:builder', `oci:${layout}:v1`, `docker://${registry.host}/podman/busybox:v1`);
      await podman('pull', '-q', '--tls-verify=false', '--creds', 'bob:builder', `${registry.host}/podman/busybox:v1`);
      await podman('tag', `${registry.host}/podman/busybox:v1`, `${registry.host}/podman/pushed:v2`);
      await podman('push', '-q', '--tls-verify=false', '--creds', 'bob:builder', `${registry.host}/podman/pushed:v2`);
      const { stdout } = await skopeo('inspect', '--tls-verify=false', '--creds', 'bob:builder', `docker://${registry.host}/podman/pushed:v2`);
      assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 1);
    } finally {
      await podman('rmi', '-a', '-f').catch(() => undefined);
      await registry.cleanup();
    }
  });
});
