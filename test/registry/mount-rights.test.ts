/**
 * Cross-repository mounts give the target a blob of the source, so they need pull rights on the
 * source; where a mount is not allowed the registry starts a plain upload session (202), as the
 * OCI distribution spec says, and the blob stays unreadable from the target.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { signJwt } from '../../src/registry/jwt.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const secret = Buffer.from('a layer only secret/app may read');

describe('cross-repository mount rights (external token issuer)', () => {
  let dir: string;
  let registry: TestRegistry;
  let issuerKey: KeyObject;
  const tokenFor = (access: { name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'issuer', sub: 'ci', aud: 'reg', exp: now + 300, nbf: now - 1, iat: now, jti: randomUUID(), access: access.map((a) => ({ type: 'repository', ...a })) };
    return `Bearer ${signJwt(claims, issuerKey)}`;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-mount-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    issuerKey = privateKey;
    writeFileSync(join(dir, 'issuer.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    registry = await startRegistry({ args: ['--token-realm', 'https://auth.example.invalid/token', '--token-issuer', 'issuer', '--token-service', 'reg', '--token-key', join(dir, 'issuer.pub')] });
    const pushed = await rawRequest(registry.port, 'POST', `/v2/secret/app/blobs/uploads/?digest=${sha256(secret)}`, { body: secret, headers: { Authorization: tokenFor([{ name: 'secret/app', actions: ['pull', 'push'] }]) } });
    assert.equal(pushed.status, 201, pushed.text);
  });
  after(async () => {
    await registry?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without pull on the source, a mount is an upload session and the blob stays hidden', async () => {
    const auth = { Authorization: tokenFor([{ name: 'mine/app', actions: ['pull', 'push'] }]) };
    const res = await rawRequest(registry.port, 'POST', `/v2/mine/app/blobs/uploads/?mount=${sha256(secret)}&from=secret/app`, { headers: auth });
    assert.equal(res.status, 202, res.text);
    assert.match(String(res.headers['location']), /^\/v2\/mine\/app\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const read = await rawRequest(registry.port, 'GET', `/v2/mine/app/blobs/${sha256(secret)}`, { headers: auth });
    assert.equal(read.status, 404);
    assert.notEqual(read.text, secret.toString());
  });

  test('without `from`, nothing is mounted, even a blob the store holds', async () => {
    const auth = { Authorization: tokenFor([{ name: 'mine/nofrom', actions: ['pull', 'push'] }]) };
    const res = await rawRequest(registry.port, 'POST', `/v2/mine/nofrom/blobs/uploads/?mount=${sha256(secret)}`, { headers: auth });
    assert.equal(res.status, 202, res.text);
    assert.equal((await rawRequest(registry.port, 'HEAD', `/v2/mine/nofrom/blobs/${sha256(secret)}`, { headers: auth })).status, 404);
  });

  test('with pull on the source and push on the target, the blob is mounted (201)', async () => {
    const auth = { Authorization: tokenFor([{ name: 'mine/shared', actions: ['pull', 'push'] }, { name: 'secret/app', actions: ['pull'] }]) };
    const res = await rawRequest(registry.port, 'POST', `/v2/mine/shared/blobs/uploads/?mount=${sha256(secret)}&from=secret/app`, { headers: auth });
    assert.equal(res.status, 201, res.text);
    assert.equal((await rawRequest(registry.port, 'GET', `/v2/mine/shared/blobs/${sha256(secret)}`, { headers: auth })).text, secret.toString());
  });

  test('pull on the source without push on the target is refused', async () => {
    const auth = { Authorization: tokenFor([{ name: 'mine/readonly', actions: ['pull'] }, { name: 'secret/app', actions: ['pull'] }]) };
    const res = await rawRequest(registry.port, 'POST', `/v2/mine/readonly/blobs/uploads/?mount=${sha256(secret)}&from=secret/app`, { headers: auth });
    assert.equal(res.status, 401);
  });
});

describe('mount without `from` (no auth)', () => {
  test('starts an upload session instead of mounting any blob the store holds', async () => {
    const registry = await startRegistry();
    try {
      const data = Buffer.from('blob of another repository');
      assert.equal((await rawRequest(registry.port, 'POST', `/v2/a/app/blobs/uploads/?digest=${sha256(data)}`, { body: data })).status, 201);
      const res = await rawRequest(registry.port, 'POST', `/v2/b/app/blobs/uploads/?mount=${sha256(data)}`);
      assert.equal(res.status, 202, res.text);
      assert.equal((await rawRequest(registry.port, 'HEAD', `/v2/b/app/blobs/${sha256(data)}`)).status, 404);
      assert.equal((await rawRequest(registry.port, 'POST', `/v2/b/app/blobs/uploads/?mount=${sha256(data)}&from=a/app`)).status, 201, 'with from it mounts');
    } finally {
      await registry.cleanup();
    }
  });
});
