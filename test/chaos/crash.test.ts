/**
 * SIGKILL berthd at random moments during parallel work, restart it on the same data root, and
 * check what a user relies on (see crash-harness.ts). Short form in `npm test` (CHAOS_KILLS=10);
 * the long form on demand: `CHAOS_KILLS=200 node --import tsx --test test/chaos/crash.test.ts`.
 * CHAOS_SEED replays a run; the seed is printed either way. CHAOS_PROGRESS=1 reports each kill point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashHarness } from './crash-harness.js';

const kills = Number(process.env['CHAOS_KILLS'] ?? 10);
const seed = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const isRoot = process.getuid?.() === 0;

test(`crash harness: ${kills} SIGKILLs of berthd during parallel work, then nothing lost and nothing left (seed ${seed})`, { skip: isRoot ? false : 'needs root', timeout: Math.max(300_000, kills * 30_000) }, async (t) => {
  t.diagnostic(`seed ${seed} (replay with CHAOS_SEED=${seed} CHAOS_KILLS=${kills})`);
  const harness = new CrashHarness(seed, process.env['CHAOS_PROGRESS'] === '1');
  t.after(() => harness.tearDown());
  await harness.setUp();
  for (let i = 0; i < kills; i++) await harness.round();
  await harness.finish();
  for (const line of harness.log) t.diagnostic(line);
  const report = harness.violations.map((v) => `kill point ${v.killPoint === -1 ? 'end' : v.killPoint}: [${v.invariant}] ${v.detail}`);
  for (const line of report) t.diagnostic(line);
  assert.deepEqual(report, [], `${report.length} invariant violations (seed ${seed})`);
});
