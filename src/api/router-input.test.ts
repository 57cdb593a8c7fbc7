/** Hostile input refused at the API edge with a 400, before any route or service sees it. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from './server.js';
import { listen, parseListenAddress } from './listen.js';
import type { SystemBackend } from './routes/system-backend.js';

const system: SystemBackend = { version: () => ({ Version: 'test', ApiVersion: '1.50' }), info: () => ({ ID: 'test' }), subscribeEvents: async function* () {} };
// Routes that echo what they were given: a value that reached them is sent back (and serialised).
const api = await buildApi(
  { system },
  {
    logger: pino({ level: 'silent' }),
    serverHeader: 'Berth/test (linux)',
    jsonBodyLimit: 1024 * 1024,
    register: (app) => {
      app.post('/volumes/create', async (req) => ({ received: req.body }));
      app.post('/containers/create', async (req) => ({ received: req.body }));
      app.get('/things/:name', async (req) => ({ name: (req.params as { name: string }).name, query: req.query }));
    },
  },
);
const dir = mkdtempSync(join(tmpdir(), 'berth-api-input-'));
const socketPath = join(dir, 'api.sock');
await listen(api.createHttpServer(), parseListenAddress(`unix://${socketPath}`));
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function send(method: string, path: string, body?: string, chunked = false): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: text.startsWith('{"message"') ? (JSON.parse(text) as { message: string }).message : text }));
    });
    req.on('error', reject);
    if (chunked && body !== undefined) {
      for (let at = 0; at < body.length; at += 65536) req.write(body.slice(at, at + 65536));
      req.end();
    } else req.end(body);
  });
}

test('a field of the wrong JSON kind is a 400 that names it, as dockerd answers', async () => {
  const labels = await send('POST', '/volumes/create', JSON.stringify({ Name: 'v', Labels: { a: 1 } }));
  assert.equal(labels.status, 400);
  assert.match(labels.message, /cannot unmarshal integer into field Labels\.a of type string/);
  const memory = await send('POST', '/v1.50/containers/create', JSON.stringify({ Image: 'x', HostConfig: { Memory: '1g' } }));
  assert.equal(memory.status, 400);
  assert.match(memory.message, /HostConfig\.Memory of type integer/);
  for (const bad of [{ NetworkMode: 5 }, { Memory: 1.5 }, { Memory: 2 ** 64 }, { CpuShares: 'x' }, { PortBindings: { '80/tcp': 'x' } }]) {
    const res = await send('POST', '/containers/create', JSON.stringify({ Image: 'x', HostConfig: bad }));
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
  assert.equal((await send('POST', '/containers/create', JSON.stringify({ Image: 5 }))).status, 400);
  assert.equal((await send('POST', '/containers/create', '[1]')).status, 400, 'a list where the body is an object');
});

test('what Go reads leniently still passes: null anywhere, a string Cmd, unknown fields', async () => {
  const body = { Image: 'x', Cmd: 'echo hi', Entrypoint: null, Env: ['A=1'], Labels: null, Unknown: { deep: [1] }, HostConfig: { Memory: 0, PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } };
  const res = await send('POST', '/containers/create', JSON.stringify(body));
  assert.equal(res.status, 200, res.message);
});

test('a body nested 10,000 levels deep is a 400, not a stack overflow in the route', async () => {
  for (const deep of ['['.repeat(10_000) + ']'.repeat(10_000), `{"Unknown":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`]) {
    const res = await send('POST', '/containers/create', deep);
    assert.equal(res.status, 400, res.message);
    assert.match(res.message, /nested deeper than 512 levels/);
  }
  const brackets = await send('POST', '/containers/create', JSON.stringify({ Image: 'x', Cmd: ['['.repeat(2_000)] }));
  assert.equal(brackets.status, 200, 'brackets inside strings do not count');
});

test('a NUL byte in a path parameter or a query value is a 400', async () => {
  assert.equal((await send('GET', '/things/a%00b')).status, 400);
  const query = await send('GET', '/things/a?path=%00');
  assert.equal(query.status, 400);
  assert.match(query.message, /"path": it contains a NUL byte/);
  assert.equal((await send('GET', '/things/a?path=ok')).status, 200);
});

test('a chunked JSON body over the limit is a 400 and the connection stays usable', async () => {
  const res = await send('POST', '/containers/create', `{"Labels":"${'a'.repeat(2 * 1024 * 1024)}"}`, true);
  assert.equal(res.status, 400);
  assert.match(res.message, /too large/);
  assert.equal((await send('GET', '/things/a')).status, 200);
});
