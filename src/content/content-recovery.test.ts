/**
 * What the content store finds after a crash, made on disk by hand in a temp root: partial
 * ingests go, a blob whose bytes do not match its name is removed (never served), and a stat
 * error is not taken for "absent".
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalContentStore } from './content-store.js';
import { digestHex, digestOf } from './digest.js';

describe('content store recovery at open', () => {
  const roots: string[] = [];
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
  const newRoot = () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-content-recovery-'));
    roots.push(root);
    return root;
  };

  test('partial ingests and pull temp files are removed', async () => {
    const root = newRoot();
    const store = await LocalContentStore.open(root);
    writeFileSync(store.tempPath('pull'), 'half a layer');
    writeFileSync(store.tempPath('blob'), 'half a blob');
    await LocalContentStore.open(root);
    assert.deepEqual(readdirSync(join(root, 'ingest')), []);
  });

  test('a blob written since the last open that does not verify is removed; good ones stay', async () => {
    const root = newRoot();
    const store = await LocalContentStore.open(root);
    const good = await store.putBytes('good bytes');
    const bad = await store.putBytes('bytes before the crash');
    // A crash (power loss) can leave a named blob with other bytes than its name says.
    writeFileSync(store.path(bad.digest), 'torn');
    const reopened = await LocalContentStore.open(root);
    assert.deepEqual(reopened.removedAtOpen, [bad.digest]);
    assert.equal(await reopened.has(bad.digest), false);
    assert.equal((await reopened.readBytes(good.digest)).toString(), 'good bytes');
  });

  test('a damaged blob is removed when read, not returned', async () => {
    const root = newRoot();
    const store = await LocalContentStore.open(root);
    const blob = await store.putBytes('{"config":1}');
    writeFileSync(store.path(blob.digest), '{"config":2}');
    // Old enough that open() does not look at it again: the read itself must catch it.
    utimesSync(store.path(blob.digest), new Date(0), new Date(0));
    await assert.rejects(store.readBytes(blob.digest), /do not match the digest/);
    assert.equal(existsSync(store.path(blob.digest)), false);
  });

  test('has() is false only for ENOENT: another stat error is thrown', async () => {
    const root = newRoot();
    const store = await LocalContentStore.open(root);
    const digest = digestOf('x');
    assert.equal(await store.has(digest), false);
    // blobs/sha256 replaced by a file: stat of a name under it fails with ENOTDIR, not ENOENT.
    rmSync(join(root, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(root, 'blobs', 'sha256'), '');
    await assert.rejects(store.has(digest), /ENOTDIR/);
  });

  test('a temp name left inside blobs/ by an older layout is removed at open', async () => {
    const root = newRoot();
    await LocalContentStore.open(root);
    mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(root, 'blobs', 'sha256', `.${digestHex(digestOf('y'))}.tmp`), 'y');
    await LocalContentStore.open(root);
    assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256')), []);
  });
});
