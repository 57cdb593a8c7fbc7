/**
 * What the overlay snapshotter finds after a crash, made on disk by hand in a temp root, and what
 * open() turns it into: finished (a missing link comes back), undone (half-made layers, staging
 * dirs and stray links go), or refused (a record that cannot be read is never a reason to delete).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OverlaySnapshotter } from './overlay-snapshotter.js';
import { mountAll, unmount } from './mount.js';
import { buildTar } from '../archive/tar-writer.js';
import { ChildProcessCommandRunner, type CommandRunner } from '../lib/command-runner.js';
import { digestHex } from '../content/digest.js';

const runner = new ChildProcessCommandRunner();
const isRoot = process.getuid?.() === 0;
const tar = (name: string, data: string) => buildTar([{ name, data }]);

describe('overlay snapshotter recovery at open', { skip: isRoot ? false : 'needs root to unpack layers and mount overlayfs' }, () => {
  const roots: string[] = [];
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
  const newRoot = () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-overlay-recovery-'));
    roots.push(root);
    return join(root, 'overlay');
  };
  const linkOf = (root: string, chainHex: string) => (JSON.parse(readFileSync(join(root, 'layers', chainHex, 'layer.json'), 'utf8')) as { link: string }).link;

  test('a layer killed between its rename and its short link gets the link back and mounts', async () => {
    const root = newRoot();
    const store = await OverlaySnapshotter.open(root, runner);
    const layer = await store.applyLayer(undefined, Readable.from([tar('f', 'one')]));
    const hex = digestHex(layer.chainId);
    const link = linkOf(root, hex);
    rmSync(join(root, 'l', link));

    const reopened = await OverlaySnapshotter.open(root, runner);
    assert.equal(readlinkSync(join(root, 'l', link)), `../layers/${hex}/diff`);
    await reopened.prepare('c1', layer.chainId);
    const target = join(root, '..', 'mnt');
    mkdirSync(target);
    await mountAll(await reopened.mounts('c1'), target, runner);
    try {
      assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'one');
    } finally {
      await unmount(target, runner);
    }
  });

  test('a layer dir without its record, a staging dir and a link to no layer are removed', async () => {
    const root = newRoot();
    const store = await OverlaySnapshotter.open(root, runner);
    const kept = await store.applyLayer(undefined, Readable.from([tar('k', 'kept')]));
    const half = join(root, 'layers', 'a'.repeat(64));
    mkdirSync(join(half, 'diff'), { recursive: true });
    writeFileSync(join(half, 'diff', 'x'), 'half');
    mkdirSync(join(root, 'tmp', 'staging', 'diff'), { recursive: true });
    symlinkSync(`../layers/${'b'.repeat(64)}/diff`, join(root, 'l', 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ'));

    const reopened = await OverlaySnapshotter.open(root, runner);
    assert.equal(existsSync(half), false, 'the unrecorded layer is gone');
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.deepEqual(readdirSync(join(root, 'l')), [linkOf(root, digestHex(kept.chainId))]);
    assert.deepEqual(reopened.layers().map((l) => l.chainId), [kept.chainId]);
  });

  test('a record that cannot be read (not ENOENT) stops the open and the layer stays', async () => {
    const root = newRoot();
    const store = await OverlaySnapshotter.open(root, runner);
    const layer = await store.applyLayer(undefined, Readable.from([tar('f', 'precious')]));
    const dir = join(root, 'layers', digestHex(layer.chainId));
    const saved = readFileSync(join(dir, 'layer.json'));
    // A directory where the record should be: reading it fails with EISDIR, as EIO would.
    rmSync(join(dir, 'layer.json'));
    mkdirSync(join(dir, 'layer.json'));
    await assert.rejects(OverlaySnapshotter.open(root, runner), /EISDIR/);
    assert.equal(readFileSync(join(dir, 'diff', 'f'), 'utf8'), 'precious');
    rmSync(join(dir, 'layer.json'), { recursive: true });
    writeFileSync(join(dir, 'layer.json'), saved);
    assert.deepEqual((await OverlaySnapshotter.open(root, runner)).layer(layer.chainId), layer);
  });

  test('the layer\'s files are flushed (syncfs) before its record is written', async () => {
    const root = newRoot();
    const calls: string[] = [];
    const recording: CommandRunner = {
      run: (file, args, options) => {
        if (file === 'sync') calls.push(`${args.join(' ')} record=${existsSync(join(args[1]!, '..', 'layer.json'))}`);
        return runner.run(file, args, options);
      },
    };
    const store = await OverlaySnapshotter.open(root, recording);
    await store.applyLayer(undefined, Readable.from([tar('f', 'x')]));
    assert.equal(calls.length, 1, calls.join('\n'));
    assert.match(calls[0]!, new RegExp(`^-f ${join(root, 'tmp')}/[0-9a-f]+/diff record=false$`));
  });

  test('two unpacks of the same layer at once both succeed with one layer', async () => {
    const root = newRoot();
    const store = await OverlaySnapshotter.open(root, runner);
    const data = tar('same', 'same');
    const [a, b] = await Promise.all([store.applyLayer(undefined, Readable.from([data])), store.applyLayer(undefined, Readable.from([data]))]);
    assert.equal(a.chainId, b.chainId);
    assert.equal(readdirSync(join(root, 'layers')).length, 1);
    assert.equal(readdirSync(join(root, 'l')).length, 1);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  test('keys() lists every snapshot directory, half-made ones too', async () => {
    const root = newRoot();
    const store = await OverlaySnapshotter.open(root, runner);
    await store.prepare('whole', undefined);
    mkdirSync(join(root, 'snapshots', 'half', 'upper'), { recursive: true });
    assert.deepEqual((await store.keys()).sort(), ['half', 'whole']);
  });
});
