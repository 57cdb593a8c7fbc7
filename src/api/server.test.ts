import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { connect } from 'node:net';
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from './server.js';
import { checkTcpExposure, listen, parseListenAddress } from './listen.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import type { SystemBackend } from './routes/system-backend.js';

const system: SystemBackend = {
  version: () => ({ Version: 'test', ApiVersion: '1.50' }),
  info: () => ({ ID: 'test' }),
  subscribeEvents: async function* () {},
};

// A JSON route of the shape later resources have, to exercise body parsing and the error map.
const api = await buildApi(
  { system },
  {
    logger: pino({ level: 'silent' }),
    serverHeader: 'Berth/test (linux)',
    jsonBodyLimit: 1024,
    register: (app, hijack) => {
      app.post('/things/create', async (req) => ({ received: req.body }));
      app.get('/things/list', async (req) => ({ filters: req.query['filters'] ?? null }));
      app.get('/things/:name', async (req) => {
        const { name } = req.params as { name: string };
        if (name === 'taken') throw new ConflictError('Conflict. The name "/taken" is already in use');
        throw new NotFoundError(`No such thing: ${name}`);
      });
      hijack.add('POST', '/things/:name/attach', async (ctx) => {
        const socket = ctx.upgrade('application/vnd.docker.raw-stream');
        socket.write(`hello ${ctx.params['name']} ${ctx.body.toString()}`);
        socket.end();
      });
    },
  },
);
// Requests go over a real socket, as the docker CLI's do.
const socketDir = mkdtempSync(join(tmpdir(), 'berth-api-'));
const socketPath = join(socketDir, 'api.sock');
await listen(api.createHttpServer(), parseListenAddress(`unix://${socketPath}`));
after(async () => {
  await api.close();
  rmSync(socketDir, { recursive: true, force: true });
});

interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = unknown>(): T;
}

function inject(options: { method: string; url: string; headers?: Record<string, string>; payload?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: options.method, path: options.url, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T }));
    });
    req.on('error', reject);
    req.end(options.payload);
  });
}

test('a malformed JSON body is 400 with a clear message', async () => {
  const res = await inject({ method: 'POST', url: '/v1.50/things/create', headers: { 'content-type': 'application/json' }, payload: '{"Image": ' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.match(res.json<{ message: string }>().message, /^invalid JSON in request body/);
});

test('an oversized JSON body is 400, not 413 or 500', async () => {
  const res = await inject({ method: 'POST', url: '/things/create', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'a'.repeat(4096) }) });
  assert.equal(res.statusCode, 400);
  assert.match(res.json<{ message: string }>().message, /too large/);
});

test('a valid JSON body reaches the route; an empty one is no body', async () => {
  const ok = await inject({ method: 'POST', url: '/things/create', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
  assert.deepEqual(ok.json(), { received: { a: 1 } });
  const empty = await inject({ method: 'POST', url: '/things/create', headers: { 'content-type': 'application/json' }, payload: '' });
  assert.equal(empty.statusCode, 200);
});

test('a text/plain body (docker cp, import) is accepted as a stream, not refused with 415', async () => {
  const res = await inject({ method: 'POST', url: '/things/create', headers: { 'content-type': 'text/plain' }, payload: 'tar bytes' });
  assert.equal(res.statusCode, 200);
});

test('error kinds map to Docker statuses with a JSON message', async () => {
  const conflict = await inject({ method: 'GET', url: '/v1.44/things/taken' });
  assert.equal(conflict.statusCode, 409);
  assert.deepEqual(conflict.json(), { message: 'Conflict. The name "/taken" is already in use' });
  const missing = await inject({ method: 'GET', url: '/things/x' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['api-version'], '1.50');
});

test('a HEAD of a GET route answers its headers without a body; the version prefix is checked', async () => {
  const head = await inject({ method: 'HEAD', url: '/v1.50/things/list' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-type'], 'application/json');
  assert.equal(head.body, '');
  const tooNew = await inject({ method: 'GET', url: '/v9.99/things/list' });
  assert.equal(tooNew.statusCode, 400);
  assert.match(tooNew.json<{ message: string }>().message, /client version 9.99 is too new/);
});

test('a repeated query parameter arrives as a list; a static path wins over :name', async () => {
  const res = await inject({ method: 'GET', url: '/things/list?filters=a&filters=b%20c' });
  assert.deepEqual(res.json(), { filters: ['a', 'b c'] });
  const unknown = await inject({ method: 'DELETE', url: '/things/list' });
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { message: 'page not found' });
});

test('hijacked routes answer 101 UPGRADED and then speak raw bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hijack-'));
  const socketPath = join(dir, 'api.sock');
  const server = api.createHttpServer();
  try {
    await listen(server, parseListenAddress(`unix://${socketPath}`));
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath);
      let data = '';
      socket.on('data', (c) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write('POST /v1.50/things/web/attach?stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 4\r\n\r\nping');
    });
    assert.match(reply, /^HTTP\/1.1 101 UPGRADED\r\n/);
    assert.match(reply, /Content-Type: application\/vnd.docker.raw-stream\r\n/);
    assert.ok(reply.endsWith('\r\n\r\nhello web ping'), reply);
    const unknown = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath);
      let data = '';
      socket.on('data', (c) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write('POST /v1.50/nothing/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
    });
    assert.match(unknown, /^HTTP\/1.1 404/);
    assert.match(unknown, /\{"message":"page not found"\}$/);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an idle keep-alive connection is never closed by the server, as dockerd never closes one', async () => {
  // A client that pauses longer than a server-side idle limit (a blocked event loop, a slow step
  // between two calls) reuses its pooled connection just as the server closes it: EPIPE mid-body.
  const server = api.createHttpServer();
  try {
    assert.equal(server.keepAliveTimeout, 0);
    assert.equal(server.timeout, 0);
  } finally {
    server.close();
  }
});

test('plain TCP, and TLS without client verification, are refused except on loopback', () => {
  const cert = { cert: Buffer.alloc(0), key: Buffer.alloc(0) };
  assert.throws(() => checkTcpExposure(parseListenAddress('tcp://0.0.0.0:2375'), undefined), /plain TCP exposes the engine .* listen on 127.0.0.0\/8/);
  assert.throws(() => checkTcpExposure(parseListenAddress('tcp://0.0.0.0:2376'), { verify: false, ...cert }), /TLS without client verification/);
  checkTcpExposure(parseListenAddress('tcp://0.0.0.0:2376'), { verify: true, ...cert });
  checkTcpExposure(parseListenAddress('tcp://127.0.0.1:2375'), undefined);
  checkTcpExposure(parseListenAddress('unix:///run/x.sock'), undefined);
  assert.deepEqual(parseListenAddress('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375, url: 'tcp://127.0.0.1:2375' });
  assert.throws(() => parseListenAddress('fd://'), /not supported/);
});
