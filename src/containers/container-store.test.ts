import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerStore } from './container-store.js';

const idA = 'a'.repeat(64);
const idB = 'b'.repeat(64);
const idC = 'c'.repeat(64);
const idD = 'd'.repeat(64);

test('ContainerStore.open keeps the files of a record it cannot read, and removes only a create that never wrote its record', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  // A good record.
  await mkdir(join(root, idA));
  await writeFile(join(root, idA, 'config.v2.json'), JSON.stringify({ id: idA, name: 'good' }));
  // A record cut off mid-write by a broken disk: unparsable, the log beside it is the user's.
  await mkdir(join(root, idB));
  await writeFile(join(root, idB, 'config.v2.json'), '{"id": "bbb');
  await writeFile(join(root, idB, 'ctr.log'), 'precious\n');
  // A record that cannot be read at all (EISDIR stands in for EIO here).
  await mkdir(join(root, idC, 'config.v2.json'), { recursive: true });
  // A create that never got to its record.
  await mkdir(join(root, idD));
  await writeFile(join(root, idD, 'hosts'), '127.0.0.1 localhost\n');

  const unreadable: string[] = [];
  const store = await ContainerStore.open(root, (id) => unreadable.push(id));
  assert.deepEqual(store.all().map((r) => r.name), ['good']);
  assert.deepEqual(unreadable.sort(), [idB, idC]);
  assert.equal(await readFile(join(root, idB, 'ctr.log'), 'utf8'), 'precious\n');
  assert.ok(existsSync(join(root, idC)));
  assert.ok(!existsSync(join(root, idD)));
});
