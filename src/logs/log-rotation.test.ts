import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logFiles, rotateIfNeeded, rotationOf } from './log-rotation.js';

test('LogConfig max-size and max-file, with Docker-style defaults and errors', () => {
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }), { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 3 });
  assert.deepEqual(rotationOf(undefined), { maxSizeBytes: 20 * 1024 * 1024, maxFiles: 5 });
  assert.throws(() => rotationOf({ Type: 'syslog' }), /log driver syslog/);
  assert.throws(() => rotationOf({ Config: { 'max-file': '0' } }), /max-file/);
  assert.throws(() => rotationOf({ Config: { colour: 'red' } }), /unknown log opt 'colour'/);
});

test('rotation shifts the files and keeps max-file of them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logrot-'));
  try {
    const path = join(dir, 'ctr.log');
    const options = { maxSizeBytes: 4, maxFiles: 3 };
    for (const text of ['aaaa', 'bbbb', 'cccc', 'dddd']) {
      await writeFile(path, text);
      assert.equal(await rotateIfNeeded(path, options), true);
    }
    await writeFile(path, 'e');
    assert.equal(await rotateIfNeeded(path, options), false);
    assert.deepEqual(logFiles(path, 3), [`${path}.2`, `${path}.1`, path]);
    assert.equal(await readFile(`${path}.2`, 'utf8'), 'cccc');
    assert.equal(await readFile(`${path}.1`, 'utf8'), 'dddd');
    assert.equal(existsSync(`${path}.3`), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
