/**
 * The Engine API under hostile input (issue 17): every route of the spec gets malformed, oversized,
 * deeply nested and wrong-typed bodies, bogus queries and strange path parameters, against one real
 * berthd. It must stay up, answer every bad request with a 4xx (a 500 is a finding), and keep its
 * memory flat. FUZZ_RUNS sets the number of requests (10,000 by default), FUZZ_SEED replays a run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { buildTar } from '../../src/archive/tar-writer.js';
import { FuzzClient, type FuzzOutcome, type FuzzRequest } from './fuzz-client.js';
import { isDestructive, loadSpecRoutes, routeRequests, type FuzzWorld } from './fuzz-routes.js';
import { SIXTEEN_MIB } from './hostile-values.js';

const TOTAL = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? randomInt(2 ** 31 - 1));
const BATCH = 40;
const CONCURRENCY = 8;
const RSS_GROWTH_LIMIT_MB = 100;

let daemon: TestDaemon;
let client: FuzzClient;
let world: FuzzWorld;

/**
 * Statuses a bad request may get: any answer but a 5xx. 501 ("not implemented") is a limitation,
 * and 503 is right when berthd could not reach the (dead) registry the request named.
 */
function isFinding(outcome: FuzzOutcome): boolean {
  if (outcome.kind === 'no-answer') return true;
  if (outcome.kind !== 'status' || outcome.status < 500 || outcome.status === 501) return false;
  return !(outcome.status === 503 && outcome.body.includes(world.deadRegistry));
}

function describe(request: FuzzRequest, outcome: FuzzOutcome): string {
  const body = request.body === undefined ? '' : ` body(${request.note}, ${Buffer.byteLength(request.body)} B)=${JSON.stringify(request.body.toString().slice(0, 300))}`;
  const answer = outcome.kind === 'status' ? `${outcome.status} ${outcome.body.slice(0, 300)}` : outcome.kind === 'dropped' ? `dropped: ${outcome.error}` : 'no answer';
  return `${request.method} ${request.target.slice(0, 300)}${body} -> ${answer}`;
}

/** One line per route and answer, with the first request that got it and how often it came. */
function groupFindings(findings: string[]): string[] {
  const groups = new Map<string, { first: string; count: number }>();
  for (const finding of findings) {
    const [, method, path, answer] = /^(\S+) \/(?:v1\.50\/)?([^/?\s]+(?:\/[^/?\s]+)?)[\s\S]* -> (.*)$/.exec(finding) ?? [];
    const key = `${method} /${path} -> ${(answer ?? finding).replace(/[0-9a-f]{12,}/g, '<id>').slice(0, 120)}`;
    const group = groups.get(key) ?? { first: finding, count: 0 };
    group.count++;
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => `${g.count}x ${g.first}`);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** RSS once it stops moving (three readings within 2 MB), after the last request's work ends. */
async function settledRssMb(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 40; i++) {
    readings.push(rssMb(pid));
    const last = readings.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) < 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return readings[readings.length - 1]!;
}

async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await daemon.request(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.body}`);
  return (res.body ? JSON.parse(res.body) : undefined) as T;
}

/** Removes every container, network and volume the run made, through the API. */
async function removeEverything(): Promise<string[]> {
  for (const c of await json<{ Id: string }[]>('GET', '/containers/json?all=1')) await daemon.request('DELETE', `/containers/${c.Id}?force=1&v=1`);
  const bridges: string[] = [];
  for (const n of await json<{ Id: string; Name: string; Options?: Record<string, string> }[]>('GET', '/networks')) {
    if (['bridge', 'host', 'none'].includes(n.Name)) continue;
    const inspect = await json<{ Options?: Record<string, string> }>('GET', `/networks/${n.Id}`);
    bridges.push(inspect.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
    const res = await daemon.request('DELETE', `/networks/${n.Id}`);
    assert.equal(res.status, 204, `network ${n.Name} is removed: ${res.body}`);
  }
  for (const v of (await json<{ Volumes: { Name: string }[] }>('GET', '/volumes')).Volumes) await daemon.request('DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=1`);
  return bridges;
}

before(async () => {
  daemon = await startBerthd();
  // A one-file image with a command that does not exist: containers can be created, never run.
  const rootfs = buildTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hostname', data: 'fuzz\n' }]);
  const imported = await daemon.request('POST', `/images/create?fromSrc=-&repo=fuzz-base&tag=latest&changes=${encodeURIComponent('CMD ["/nonexistent"]')}`, { body: rootfs, headers: { 'Content-Type': 'application/x-tar' } });
  assert.match(imported.body, /"status":"sha256:/, imported.body);
  const imageId = (await json<{ Id: string }>('GET', '/images/fuzz-base/json')).Id;
  const container = await json<{ Id: string }>('POST', '/containers/create?name=fuzzc-base', { Image: 'fuzz-base', HostConfig: { NetworkMode: 'none' } });
  await json('POST', '/volumes/create', { Name: 'fuzzv-base' });
  const network = await json<{ Id: string }>('POST', '/networks/create', { Name: 'fuzzn-base' });
  world = {
    known: ['fuzz-base', 'fuzz-base:latest', imageId, imageId.slice(7, 19), 'fuzzc-base', container.Id, container.Id.slice(0, 12), 'fuzzv-base', 'fuzzn-base', network.Id, 'bridge', 'none', 'host'],
    image: 'fuzz-base',
    deadRegistry: `127.0.0.1:${await closedLoopbackPort()}`,
    // Valid JSON one byte over the limit: only counting can refuse it.
    oversized: Buffer.concat([Buffer.from('{"Labels":"'), Buffer.alloc(SIXTEEN_MIB - 13, 0x61), Buffer.from('"}')]),
  };
  client = new FuzzClient(daemon.socket, CONCURRENCY, 30_000);
});

after(async () => {
  client?.close();
  if (daemon) {
    await removeEverything().catch(() => undefined);
    await daemon.cleanup();
  }
});

test(`berthd survives ${TOTAL} hostile requests without a 500 and with flat memory (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${TOTAL})`);
  const { api, routes } = loadSpecRoutes();
  t.diagnostic(`${routes.length} routes of API ${api}`);
  // The allocator keeps the high-water mark of the few 16 MiB bodies (the same after 10,000 requests
  // as after 30,000): reach it first, so that what the run adds after it is growth.
  const coldRss = await settledRssMb(daemon.pid);
  const warmUp = [true, false].map((chunked): FuzzRequest => ({ method: 'POST', target: '/containers/create', contentType: 'application/json', body: world.oversized, chunked, note: 'oversized' }));
  for (const request of warmUp) {
    const outcome = await client.send(request);
    assert.equal(outcome.kind === 'status' && outcome.status, 400, 'a body over the limit is a 400');
  }
  const startRss = await settledRssMb(daemon.pid);
  const findings: string[] = [];
  const counts = new Map<string, number>();
  let sent = 0;

  const phases = [routes.filter((r) => !isDestructive(r)), routes.filter(isDestructive)];
  const phaseTotals = [Math.round(TOTAL * 0.9), TOTAL - Math.round(TOTAL * 0.9)];
  for (const [index, phaseRoutes] of phases.entries()) {
    const request = fc.oneof(...phaseRoutes.map((route) => routeRequests(route, world)));
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const outcomes = await client.sendAll(batch);
        sent += batch.length;
        const bad: string[] = [];
        outcomes.forEach((outcome, i) => {
          const label = outcome.kind === 'status' ? String(outcome.status) : outcome.kind;
          counts.set(label, (counts.get(label) ?? 0) + 1);
          if (isFinding(outcome)) bad.push(describe(batch[i]!, outcome));
        });
        // Findings are gathered over the whole run (one report, grouped); a crash stops it at once.
        findings.push(...bad);
        assert.equal(daemon.process.exitCode, null, `berthd exited:\n${daemon.logs().slice(-3_000)}`);
        const ping = await daemon.request('GET', '/_ping');
        assert.equal(ping.status, 200, 'berthd answers /_ping after the batch');
      }),
      { seed: SEED + index, numRuns: Math.ceil(phaseTotals[index]! / BATCH), endOnFailure: true },
    );
  }

  t.diagnostic(`sent ${sent} requests; answers: ${[...counts].sort().map(([k, v]) => `${k}x${v}`).join(' ')}`);
  const bridges = await removeEverything();
  const endRss = await settledRssMb(daemon.pid);
  t.diagnostic(`berthd RSS ${coldRss.toFixed(1)} MB at start, ${startRss.toFixed(1)} MB after ${warmUp.length} oversized bodies, ${endRss.toFixed(1)} MB at the end (limit +${RSS_GROWTH_LIMIT_MB} MB)`);
  assert.ok(sent >= TOTAL, `sent ${sent} of ${TOTAL}`);
  assert.deepEqual(groupFindings(findings), [], `${findings.length} requests got a 500 or no answer`);
  assert.ok(endRss - startRss < RSS_GROWTH_LIMIT_MB, `RSS grew from ${startRss.toFixed(1)} MB to ${endRss.toFixed(1)} MB`);
  const leftBridges = bridges.filter((b) => spawnSync('ip', ['link', 'show', b], { stdio: 'ignore' }).status === 0);
  assert.deepEqual(leftBridges, [], 'the networks the run made leave no bridge behind');
});
