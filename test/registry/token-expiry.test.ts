/**
 * Bearer tokens live only as long as they say: the registry's own tokens carry exp, nbf and iat,
 * /token reports expires_in and issued_at, and a token past its exp (or without one) gets 401
 * UNAUTHORIZED with error="invalid_token". The clock is injected: no test waits for time to pass.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { rawRequest, startRegistry } from '../helpers/registry.js';
import { signJwt } from '../../src/registry/jwt.js';
import { RegistryAuth } from '../../src/registry/registry-auth.js';
import { RegistryStorage } from '../../src/registry/registry-storage.js';
import { createRegistryServer } from '../../src/registry/registry-server.js';
import type { Clock } from '../../src/lib/clock.js';

const errorCode = (res: { json<T>(): T }) => res.json<{ errors: { code: string }[] }>().errors[0]!.code;

describe('tokens from the built-in /token endpoint expire (injected clock)', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
  const clock: Clock = { nowMs: () => nowMs, nowNs: () => BigInt(nowMs) * 1_000_000n };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-token-expiry-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'token.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const auth = new RegistryAuth({ token: { realm: 'http://127.0.0.1/token', issuer: 'berth-test', service: 'registry.test', keyFile: join(dir, 'token.key') }, anonymousPull: true }, clock);
    server = createRegistryServer({ storage: await RegistryStorage.open(join(dir, 'storage')), auth, logger: pino({ level: 'silent' }), readOnly: false, deleteEnabled: false, maxManifestBytes: 1 << 20 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the token states its lifetime, works until exp and is refused from exp on', async () => {
    const issuedAt = nowMs;
    const res = await rawRequest(port, 'GET', '/token?service=registry.test&scope=repository:team/app:pull');
    assert.equal(res.status, 200);
    const body = res.json<{ token: string; expires_in: number; issued_at: string }>();
    assert.equal(body.expires_in, 300);
    assert.equal(body.issued_at, new Date(issuedAt).toISOString());
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as { exp: number; nbf: number; iat: number };
    assert.equal(claims.iat, issuedAt / 1000);
    assert.equal(claims.exp, issuedAt / 1000 + 300);
    assert.ok(claims.nbf <= claims.iat);

    const pull = () => rawRequest(port, 'GET', '/v2/team/app/tags/list', { headers: { Authorization: `Bearer ${body.token}` } });
    nowMs = issuedAt + 299_000;
    assert.equal((await pull()).status, 404, 'still valid: reaches the (unknown) repository');
    nowMs = issuedAt + 300_000;
    const expired = await pull();
    assert.equal(expired.status, 401);
    assert.equal(errorCode(expired), 'UNAUTHORIZED');
    assert.match(String(expired.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1\/token",service="registry\.test",scope="repository:team\/app:pull",error="invalid_token"$/);
  });
});

describe('tokens from an external issuer must state an expiry', () => {
  test('a token without exp is refused; an expired one says invalid_token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-registry-token-exp-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'issuer.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const registry = await startRegistry({ args: ['--token-realm', 'https://auth.example.invalid/token', '--token-issuer', 'external', '--token-service', 'reg', '--token-key', join(dir, 'issuer.pub')] });
    try {
      const now = Math.floor(Date.now() / 1000);
      const access = [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }];
      const forever = signJwt({ iss: 'external', sub: 'ci', aud: 'reg', nbf: now - 1, iat: now, jti: randomUUID(), access } as unknown as Parameters<typeof signJwt>[0], privateKey);
      const noExp = await rawRequest(registry.port, 'POST', '/v2/ci/app/blobs/uploads/', { headers: { Authorization: `Bearer ${forever}` } });
      assert.equal(noExp.status, 401);
      assert.equal(errorCode(noExp), 'UNAUTHORIZED');

      const old = signJwt({ iss: 'external', sub: 'ci', aud: 'reg', exp: now - 10, nbf: now - 100, iat: now - 100, jti: randomUUID(), access }, privateKey);
      const expired = await rawRequest(registry.port, 'POST', '/v2/ci/app/blobs/uploads/', { headers: { Authorization: `Bearer ${old}` } });
      assert.equal(expired.status, 401);
      assert.match(String(expired.headers['www-authenticate']), /,error="invalid_token"$/);

      const noAccess = signJwt({ iss: 'external', sub: 'ci', aud: 'reg', exp: now + 60, nbf: now - 1, iat: now, jti: randomUUID(), access: 'everything' } as unknown as Parameters<typeof signJwt>[0], privateKey);
      assert.equal((await rawRequest(registry.port, 'GET', '/v2/ci/app/tags/list', { headers: { Authorization: `Bearer ${noAccess}` } })).status, 401, 'a malformed access claim is refused, not a 500');
    } finally {
      await registry.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
