/** The overlay snapshotter on a real overlayfs mount (root), with layer diff round-tripping. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { OverlaySnapshotter } from './overlay-snapshotter.js';
import { chainIds } from './snapshotter.js';
import { mountAll, unmount } from './mount.js';
import { buildTar } from '../archive/tar-writer.js';
import { layerDiff } from '../archive/layer-diff.js';
import { readTar } from '../archive/tar-reader.js';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';
import type { Digest } from '../content/digest.js';

const runner = new ChildProcessCommandRunner();
const isRoot = process.getuid?.() === 0;
const sha = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const layer1 = buildTar([
  { name: 'a.txt', data: 'a' },
  { name: 'del.txt', data: 'doomed' },
  { name: 'dir/', type: 'dir' },
  { name: 'dir/x', data: 'x' },
  { name: 'dir/y', data: 'y' },
]);
const layer2 = buildTar([{ name: 'b.txt', data: 'b' }, { name: '.wh.a.txt', data: '' }]);

describe('overlay snapshotter', { skip: isRoot ? false : 'needs root to mount overlayfs' }, () => {
  let root: string;
  let store: OverlaySnapshotter;
  const mounted: string[] = [];
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-overlay-'));
    store = await OverlaySnapshotter.open(join(root, 'overlay'), runner);
  });
  after(async () => {
    for (const target of mounted) await unmount(target, runner).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  const mountSnapshot = async (key: string) => {
    const target = join(root, `mnt-${key}`);
    mkdirSync(target);
    await mountAll(await store.mounts(key), target, runner);
    mounted.push(target);
    return target;
  };
  const umountSnapshot = async (target: string) => {
    await unmount(target, runner);
    mounted.splice(mounted.indexOf(target), 1);
  };

  test('layers are keyed by chain ID, unpacked once, and survive a reopen', async () => {
    const l1 = await store.applyLayer(undefined, Readable.from([layer1]));
    const l2 = await store.applyLayer(l1.chainId, Readable.from([layer2]));
    assert.deepEqual([l1.chainId, l2.chainId], chainIds([sha(layer1), sha(layer2)]));
    assert.equal(l2.parent, l1.chainId);
    const again = await store.applyLayer(l1.chainId, Readable.from([layer2]), sha(layer2));
    assert.equal(again.chainId, l2.chainId);
    const reopened = await OverlaySnapshotter.open(join(root, 'overlay'), runner);
    assert.deepEqual(reopened.layer(l2.chainId), l2);
  });

  test('a mismatching DiffID is refused and nothing is kept', async () => {
    const before = store.layers().length;
    await assert.rejects(store.applyLayer(undefined, Readable.from([buildTar([{ name: 'z', data: 'z' }])]), `sha256:${'0'.repeat(64)}`), /digest mismatch/);
    assert.equal(store.layers().length, before);
    assert.deepEqual(readdirSync(join(root, 'overlay', 'tmp')), []);
  });

  test('a snapshot mounts the chain; its diff holds whiteouts and applies back', async () => {
    const [, top] = chainIds([sha(layer1), sha(layer2)]);
    await store.prepare('c1', top);
    const rootfs = await mountSnapshot('c1');
    assert.equal(readFileSync(join(rootfs, 'b.txt'), 'utf8'), 'b');
    assert.equal(existsSync(join(rootfs, 'a.txt')), false, 'the whiteout hides a.txt');
    assert.deepEqual(readdirSync(join(rootfs, 'dir')).sort(), ['x', 'y']);

    writeFileSync(join(rootfs, 'new.txt'), 'new');
    rmSync(join(rootfs, 'del.txt'));
    rmSync(join(rootfs, 'dir'), { recursive: true });
    mkdirSync(join(rootfs, 'dir'));
    writeFileSync(join(rootfs, 'dir', 'z'), 'z');
    await umountSnapshot(rootfs);

    const chunks: Buffer[] = [];
    for await (const chunk of layerDiff(store.upperDir('c1'), runner)) chunks.push(chunk);
    const diff = Buffer.concat(chunks);
    const names: string[] = [];
    for await (const entry of readTar(Readable.from([diff]))) names.push(entry.header.name);
    assert.ok(names.includes('.wh.del.txt'), names.join(' '));
    assert.ok(names.includes('dir/.wh..wh..opq'), names.join(' '));
    assert.ok(names.includes('dir/z'));
    assert.ok(names.includes('new.txt'));

    const l3 = await store.applyLayer(top, Readable.from([diff]));
    await store.prepare('c2', l3.chainId);
    const second = await mountSnapshot('c2');
    assert.equal(existsSync(join(second, 'del.txt')), false);
    assert.deepEqual(readdirSync(join(second, 'dir')), ['z'], 'the opaque directory hides x and y');
    assert.equal(readFileSync(join(second, 'new.txt'), 'utf8'), 'new');
    await umountSnapshot(second);
    await store.remove('c1');
    await store.remove('c2');
    assert.equal(existsSync(join(root, 'overlay', 'snapshots', 'c1')), false);
  });

  test('a 120-layer chain mounts: short links keep the options under the page size', async () => {
    let parent: Digest | undefined;
    for (let i = 0; i < 120; i++) {
      parent = (await store.applyLayer(parent, Readable.from([buildTar([{ name: `f${i}`, data: String(i) }])]))).chainId;
    }
    const mounts = await store.prepare('deep', parent);
    assert.ok(mounts[0]!.options.join(',').length < 4096);
    const rootfs = await mountSnapshot('deep');
    assert.equal(readFileSync(join(rootfs, 'f0'), 'utf8'), '0');
    assert.equal(readFileSync(join(rootfs, 'f119'), 'utf8'), '119');
    await umountSnapshot(rootfs);
    await store.remove('deep');
  });

  test('removing a layer that is still a parent is refused', async () => {
    const [first] = chainIds([sha(layer1)]);
    await assert.rejects(store.removeLayer(first!), /is the parent of/);
  });
});
