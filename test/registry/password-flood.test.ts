/**
 * Bad-password floods against htpasswd Basic auth: bcrypt runs off the event loop, so other
 * clients are answered while the flood is still being hashed; an address that keeps failing gets
 * 429 TOOMANYREQUESTS with Retry-After before any hashing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** GET from a chosen loopback source address (the registry limits failures per address). */
function getFrom(port: number, localAddress: string, path: string, authorization?: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false, headers: authorization ? { Authorization: authorization } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('htpasswd under a bad-password flood', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-flood-'));
    // Cost 10: each bcrypt check takes a noticeable slice of a core, as real htpasswd files do.
    writeFileSync(join(dir, 'slow.htpasswd'), `alice:${bcrypt.hashSync('wonderland', 10)}\n`);
    writeFileSync(join(dir, 'fast.htpasswd'), `alice:${bcrypt.hashSync('wonderland', 4)}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let registry: TestRegistry | undefined;
  after(() => registry?.cleanup());

  test('a client with valid credentials is answered while the flood is still running', async () => {
    registry = await startRegistry({ args: ['--htpasswd', join(dir, 'slow.htpasswd')] });
    const port = registry.port;
    const valid = basic('alice', 'wonderland');
    assert.equal((await getFrom(port, '127.0.0.1', '/v2/', valid)).status, 200, 'a first login');

    // Each flooder has its own address, so the per-address limit does not end the flood early.
    const floodSize = 12;
    let floodAnswered = 0;
    let firstAnswer!: () => void;
    const firstAnswered = new Promise<void>((resolve) => (firstAnswer = resolve));
    const flood = Array.from({ length: floodSize }, (_, i) =>
      getFrom(port, `127.0.0.${i + 2}`, '/v2/', basic('alice', `guess-${i}`)).then((res) => {
        floodAnswered++;
        firstAnswer();
        return res.status;
      }),
    );
    await firstAnswered; // the server is busy with the flood now
    const during = await getFrom(port, '127.0.0.1', '/v2/', valid);
    const answeredBefore = floodAnswered;
    const statuses = await Promise.all(flood);
    assert.equal(during.status, 200);
    assert.ok(answeredBefore < floodSize, `the valid request finished while ${floodSize - answeredBefore} of ${floodSize} flood requests were still unanswered`);
    for (const status of statuses) assert.ok(status === 401 || status === 429, `a bad password gets 401 or 429, not ${status}`);
    await registry.cleanup();
    registry = undefined;
  });

  test('an address that keeps failing gets 429 TOOMANYREQUESTS with Retry-After; others still log in', async () => {
    registry = await startRegistry({ args: ['--htpasswd', join(dir, 'fast.htpasswd')] });
    const port = registry.port;
    for (let i = 0; i < 10; i++) assert.equal((await getFrom(port, '127.0.0.20', '/v2/', basic('alice', `wrong-${i}`))).status, 401);
    const limited = await getFrom(port, '127.0.0.20', '/v2/', basic('alice', 'wrong-again'));
    assert.equal(limited.status, 429);
    assert.equal((JSON.parse(limited.text) as { errors: { code: string }[] }).errors[0]!.code, 'TOOMANYREQUESTS');
    assert.match(String(limited.headers['retry-after']), /^\d+$/);
    assert.equal((await getFrom(port, '127.0.0.20', '/v2/', basic('alice', 'wonderland'))).status, 429, 'no more bcrypt for this address, even for the right password');
    assert.equal((await getFrom(port, '127.0.0.21', '/v2/', basic('alice', 'wonderland'))).status, 200, 'another address is not affected');
    assert.equal((await getFrom(port, '127.0.0.20', '/v2/', basic('alice', 'wonderland'))).status, 200, 'credentials verified once pass from the cache without bcrypt');
    await registry.cleanup();
    registry = undefined;
  });
});
