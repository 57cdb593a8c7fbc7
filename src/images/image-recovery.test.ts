/**
 * The image service over real stores in a temp root: leases keep in-flight work from garbage
 * collection, and start() repairs what a crash or a damaged file left (a missing layer is unpacked
 * again, an image record that does not parse is set aside, never deleted).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalContentStore } from '../content/index.js';
import { OverlaySnapshotter, chainIds } from '../snapshots/index.js';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';
import { buildTar } from '../archive/tar-writer.js';
import { digestHex, type Digest } from '../content/digest.js';
import { ImageService } from './image-service.js';
import { ImageStore } from './image-store.js';

const runner = new ChildProcessCommandRunner();
const isRoot = process.getuid?.() === 0;

async function openService(root: string, usage: { chains: Digest[] } = { chains: [] }) {
  const content = await LocalContentStore.open(join(root, 'content'));
  const snapshotter = await OverlaySnapshotter.open(join(root, 'overlay'), runner);
  const store = await ImageStore.open(join(root, 'images'));
  const images = new ImageService({
    content,
    snapshotter,
    store,
    clock: { nowMs: () => 1_700_000_000_000, nowNs: () => 1_700_000_000_000_000_000n },
    publish: () => undefined,
    platform: { os: 'linux', architecture: 'amd64' },
    usage: { containersUsing: () => [], chainsInUse: () => usage.chains },
  });
  await images.start();
  return { content, snapshotter, store, images };
}

const importTar = (images: ImageService, name: string, data: string, repo: string) =>
  images.importImage(Readable.from([buildTar([{ name, data }])]), { repo, changes: [], source: '-' });

describe('image service: leases and recovery', { skip: isRoot ? false : 'needs root to unpack layers' }, () => {
  const roots: string[] = [];
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
  const newRoot = () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-image-recovery-'));
    roots.push(root);
    return root;
  };

  test('a chain under a lease survives rmi of its image; released, the next GC removes it', async () => {
    const { images, snapshotter } = await openService(newRoot());
    const id = await importTar(images, 'a', 'a', 'held');
    const [chain] = chainIds(images.inspect(id).RootFS!.Layers as Digest[]);
    const lease = images.lease({ chains: [chain!] });
    await images.remove(id, { force: true });
    assert.ok(snapshotter.layer(chain!), 'the leased layer stays');
    lease.release();
    const other = await importTar(images, 'b', 'b', 'other');
    await images.remove(other, { force: true });
    assert.equal(snapshotter.layer(chain!), undefined, 'released, it is collected');
  });

  test('a pull lease keeps its blobs and chains (and their parents) through a prune', async () => {
    const { images, snapshotter, content } = await openService(newRoot());
    const id = await importTar(images, 'p', 'p', 'base');
    const record = images.inspect(id);
    const [chain] = chainIds(record.RootFS!.Layers as Digest[]);
    const orphan = await content.putBytes('a blob the pull fetched, its image not recorded yet');
    const lease = images.lease({ blobs: [orphan.digest], chains: [chain!] });
    await images.remove(id, { force: true });
    await images.prune(new Map([['dangling', ['false']]]));
    assert.ok(await content.has(orphan.digest));
    assert.ok(snapshotter.layer(chain!));
    lease.release();
    await images.prune(new Map([['dangling', ['false']]]));
    assert.equal(await content.has(orphan.digest), false);
    assert.equal(snapshotter.layer(chain!), undefined);
  });

  test('start() unpacks a layer an image lost again from its blob', async () => {
    const root = newRoot();
    const first = await openService(root);
    const id = await importTar(first.images, 'f', 'kept', 'repair');
    const [chain] = chainIds(first.images.inspect(id).RootFS!.Layers as Digest[]);
    // As if the layer's record never reached the disk.
    rmSync(join(root, 'overlay', 'layers', digestHex(chain!), 'layer.json'));
    const second = await openService(root);
    assert.ok(second.snapshotter.layer(chain!), 'the layer is back');
    assert.equal(second.images.repairs.length, 1, second.images.repairs.join('\n'));
  });

  test('an image record that does not parse is set aside as .corrupt, not deleted', async () => {
    const root = newRoot();
    const first = await openService(root);
    const id = await importTar(first.images, 'c', 'c', 'corrupt');
    const file = join(root, 'images', 'records', `${digestHex(id)}.json`);
    writeFileSync(file, '{"id": "sha256:torn');
    writeFileSync(join(root, 'images', 'records', `.x.json.0123456789ab.tmp`), 'temp of an atomic write');
    const second = await openService(root);
    assert.equal(second.images.exists(id), false);
    assert.deepEqual(readdirSync(join(root, 'images', 'records')), [`${digestHex(id)}.json.corrupt`]);
    assert.equal(existsSync(`${file}.corrupt`), true);
  });

  test('an image record that cannot be read (not ENOENT) stops the start; nothing is deleted', async () => {
    const root = newRoot();
    const first = await openService(root);
    const id = await importTar(first.images, 'e', 'e', 'unreadable');
    const file = join(root, 'images', 'records', `${digestHex(id)}.json`);
    rmSync(file);
    // A directory where the record is: reading fails with EISDIR, as with EIO.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(file);
    await assert.rejects(ImageStore.open(join(root, 'images')), /EISDIR/);
    assert.equal(existsSync(file), true);
  });
});
