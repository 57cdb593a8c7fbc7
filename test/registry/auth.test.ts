/** berth-registry's auth: htpasswd Basic, the built-in token endpoint, an external issuer's tokens. */
import { freeLoopbackPort } from '../helpers/ports.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { rawRequest, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { signJwt } from '../../src/registry/jwt.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const code = (res: { json<T>(): T }) => res.json<{ errors: { code: string }[] }>().errors[0]!.code;


describe('registry auth', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-auth-'));
    writeFileSync(join(dir, 'htpasswd'), `alice:${bcrypt.hashSync('wonderland', 5)}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('htpasswd Basic', () => {
    let registry: TestRegistry;
    before(async () => {
      registry = await startRegistry({ args: ['--htpasswd', join(dir, 'htpasswd')] });
    });
    after(() => registry?.cleanup());

    test('no credentials: 401 UNAUTHORIZED with a Basic challenge', async () => {
      const res = await rawRequest(registry.port, 'GET', '/v2/');
      assert.equal(res.status, 401);
      assert.equal(code(res), 'UNAUTHORIZED');
      assert.equal(res.headers['www-authenticate'], 'Basic realm="berth-registry"');
    });

    test('right credentials pass; wrong ones do not', async () => {
      assert.equal((await rawRequest(registry.port, 'GET', '/v2/', { headers: { Authorization: basic('alice', 'wonderland') } })).status, 200);
      assert.equal((await rawRequest(registry.port, 'GET', '/v2/', { headers: { Authorization: basic('alice', 'nope') } })).status, 401);
      assert.equal((await rawRequest(registry.port, 'GET', '/v2/', { headers: { Authorization: basic('mallory', 'wonderland') } })).status, 401);
    });
  });

  describe('anonymous pull', () => {
    test('with --anonymous-pull, reads need no credentials but writes do', async () => {
      const registry = await startRegistry({ args: ['--htpasswd', join(dir, 'htpasswd'), '--anonymous-pull'] });
      try {
        assert.equal((await rawRequest(registry.port, 'GET', '/v2/x/tags/list')).status, 404, 'reaches the repository (unknown), not 401');
        assert.equal((await rawRequest(registry.port, 'POST', '/v2/x/blobs/uploads/')).status, 401);
        assert.equal((await rawRequest(registry.port, 'POST', '/v2/x/blobs/uploads/', { headers: { Authorization: basic('alice', 'wonderland') } })).status, 202);
      } finally {
        await registry.cleanup();
      }
    });
  });

  describe('bearer tokens from the built-in /token endpoint', () => {
    let registry: TestRegistry;
    let port: number;
    before(async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, 'token.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
      port = await freeLoopbackPort();
      registry = await startRegistry({
        port,
        args: ['--htpasswd', join(dir, 'htpasswd'), '--token-realm', `http://127.0.0.1:${port}/token`, '--token-issuer', 'berth-test', '--token-service', 'registry.test', '--token-key', join(dir, 'token.key'), '--anonymous-pull'],
      });
    });
    after(() => registry?.cleanup());

    test('the challenge names the realm, service and scope', async () => {
      const res = await rawRequest(port, 'POST', '/v2/team/app/blobs/uploads/');
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], `Bearer realm="http://127.0.0.1:${port}/token",service="registry.test",scope="repository:team/app:pull,push"`);
    });

    test('a user token allows push; an anonymous token only pull', async () => {
      const scope = encodeURIComponent('repository:team/app:pull,push');
      const userToken = (await rawRequest(port, 'GET', `/token?service=registry.test&scope=${scope}`, { headers: { Authorization: basic('alice', 'wonderland') } })).json<{ token: string }>().token;
      assert.equal((await rawRequest(port, 'POST', '/v2/team/app/blobs/uploads/', { headers: { Authorization: `Bearer ${userToken}` } })).status, 202);
      assert.equal((await rawRequest(port, 'POST', '/v2/team/other/blobs/uploads/', { headers: { Authorization: `Bearer ${userToken}` } })).status, 401, 'scoped to team/app');

      const anonymous = (await rawRequest(port, 'GET', `/token?service=registry.test&scope=${scope}`)).json<{ token: string }>().token;
      assert.equal((await rawRequest(port, 'GET', '/v2/team/app/tags/list', { headers: { Authorization: `Bearer ${anonymous}` } })).status, 404, 'pull allowed (unknown repository)');
      const denied = await rawRequest(port, 'POST', '/v2/team/app/blobs/uploads/', { headers: { Authorization: `Bearer ${anonymous}` } });
      assert.equal(denied.status, 401);
      assert.match(String(denied.headers['www-authenticate']), /error="insufficient_scope"$/);
    });

    test('bad credentials at /token and forged tokens are refused', async () => {
      assert.equal((await rawRequest(port, 'GET', '/token?service=registry.test&scope=repository:a:pull', { headers: { Authorization: basic('alice', 'x') } })).status, 401);
      const forged = signJwt(
        { iss: 'berth-test', sub: 'alice', aud: 'registry.test', exp: Math.floor(Date.now() / 1000) + 60, nbf: 0, iat: 0, jti: randomUUID(), access: [{ type: 'repository', name: 'team/app', actions: ['push', 'pull'] }] },
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      );
      assert.equal((await rawRequest(port, 'POST', '/v2/team/app/blobs/uploads/', { headers: { Authorization: `Bearer ${forged}` } })).status, 401);
    });
  });

  describe('tokens from an external issuer', () => {
    test('the registry holds only the public key and accepts what the issuer signs', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(dir, 'issuer.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      const registry = await startRegistry({ args: ['--token-realm', 'https://auth.example.invalid/token', '--token-issuer', 'external', '--token-service', 'reg', '--token-key', join(dir, 'issuer.pub')] });
      try {
        const now = Math.floor(Date.now() / 1000);
        const token = signJwt({ iss: 'external', sub: 'ci', aud: 'reg', exp: now + 60, nbf: now - 1, iat: now, jti: randomUUID(), access: [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }] }, createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })));
        assert.equal((await rawRequest(registry.port, 'POST', '/v2/ci/app/blobs/uploads/', { headers: { Authorization: `Bearer ${token}` } })).status, 202);
        const expired = signJwt({ iss: 'external', sub: 'ci', aud: 'reg', exp: now - 10, nbf: now - 100, iat: now - 100, jti: randomUUID(), access: [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }] }, privateKey);
        assert.equal((await rawRequest(registry.port, 'POST', '/v2/ci/app/blobs/uploads/', { headers: { Authorization: `Bearer ${expired}` } })).status, 401);
        assert.equal((await rawRequest(registry.port, 'GET', '/token?scope=repository:ci/app:pull')).status, 405, 'no token endpoint without the private key');
      } finally {
        await registry.cleanup();
      }
    });
  });
});
