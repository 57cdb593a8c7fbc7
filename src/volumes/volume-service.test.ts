/** The local volume driver on a temp root: what a start finds on disk is kept, never lost. */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';
import { ConflictError } from '../lib/errors.js';
import { VolumeService, type VolumeServiceDeps } from './volume-service.js';

describe('VolumeService on disk', () => {
  let root: string;
  let warnings: string[];
  let errors: string[];

  beforeEach(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'berth-volumes-')), 'volumes');
    warnings = [];
    errors = [];
  });
  afterEach(async () => {
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  const service = (extra: Partial<VolumeServiceDeps> = {}) => new VolumeService({
    root,
    runner: new ChildProcessCommandRunner(),
    nowIso: () => '2026-12-05T00:00:00.000Z',
    publish: () => undefined,
    log: { warn: (_fields, message) => warnings.push(message), error: (_fields, message) => errors.push(message) },
    usersOf: () => [],
    runningUsersOf: () => [],
    ...extra,
  });

  /** A volume directory as a crash or a damaged disk may leave it. */
  const volumeOnDisk = async (name: string, record: string | undefined, files: Record<string, string>) => {
    await mkdir(join(root, name, '_data'), { recursive: true });
    if (record !== undefined) await writeFile(join(root, name, 'volume.json'), record);
    for (const [file, text] of Object.entries(files)) await writeFile(join(root, name, '_data', file), text);
  };

  test('a volume whose record is not valid JSON keeps its data, is listed, and the bad record is kept beside it', async () => {
    await volumeOnDisk('precious', '{"name":"precious","driver":"lo', { 'db.sqlite': 'rows' });
    const volumes = service();
    await volumes.load();
    assert.deepEqual(volumes.list().map((v) => [v.name, v.options, v.anonymous]), [['precious', {}, false]]);
    assert.equal(await readFile(join(root, 'precious', '_data', 'db.sqlite'), 'utf8'), 'rows');
    assert.equal(await readFile(join(root, 'precious', 'volume.json.corrupt'), 'utf8'), '{"name":"precious","driver":"lo');
    assert.equal(warnings.length, 1);
    // The next start finds a normal volume.
    warnings = [];
    const again = service();
    await again.load();
    assert.deepEqual(again.list().map((v) => v.name), ['precious']);
    assert.deepEqual(warnings, []);
  });

  test('a volume directory with data but no record is kept as a volume', async () => {
    await volumeOnDisk('norecord', undefined, { 'notes.txt': 'mine' });
    const volumes = service();
    await volumes.load();
    assert.deepEqual(volumes.list().map((v) => v.name), ['norecord']);
    assert.equal(await readFile(join(root, 'norecord', '_data', 'notes.txt'), 'utf8'), 'mine');
    assert.equal(warnings.length, 1);
  });

  test('a record that cannot be read deletes nothing, and its name cannot be taken by a new volume', async () => {
    await volumeOnDisk('unreadable', undefined, { 'keep.txt': 'data' });
    await mkdir(join(root, 'unreadable', 'volume.json')); // reading it fails with EISDIR, as EIO would
    const volumes = service();
    await volumes.load();
    assert.deepEqual(volumes.list(), []);
    assert.equal(errors.length, 1);
    assert.equal(await readFile(join(root, 'unreadable', '_data', 'keep.txt'), 'utf8'), 'data');
    await assert.rejects(volumes.create({ name: 'unreadable' }), (err: unknown) => err instanceof ConflictError && /unreadable/.test(err.message));
    assert.equal(await readFile(join(root, 'unreadable', '_data', 'keep.txt'), 'utf8'), 'data');
  });

  test('a create that never finished (no record, empty _data, a temp record) is removed; a stray file, or a directory holding anything else, is left alone', async () => {
    await volumeOnDisk('halfmade', undefined, {});
    await writeFile(join(root, 'halfmade', '.volume.json.0123456789ab.tmp'), '{"na');
    await mkdir(join(root, 'bare'));
    await volumeOnDisk('other', undefined, {});
    await writeFile(join(root, 'other', 'volume.json.corrupt'), '{"na');
    await writeFile(join(root, 'stray-file'), 'not a volume');
    const volumes = service();
    await volumes.load();
    assert.deepEqual(volumes.list(), []);
    assert.deepEqual((await readdir(root)).sort(), ['other', 'stray-file']);
    assert.deepEqual((await readdir(join(root, 'other'))).sort(), ['_data', 'volume.json.corrupt']);
    assert.equal((await volumes.create({ name: 'halfmade' })).name, 'halfmade');
  });

  test('a volume whose remove stopped after its data gets an empty _data back', async () => {
    await mkdir(join(root, 'gone'), { recursive: true });
    await writeFile(join(root, 'gone', 'volume.json'), JSON.stringify({ name: 'gone', driver: 'local', labels: {}, options: {}, createdAt: '2026-01-01T00:00:00Z', anonymous: false }));
    const volumes = service();
    await volumes.load();
    assert.deepEqual(volumes.list().map((v) => v.name), ['gone']);
    assert.ok((await stat(join(root, 'gone', '_data'))).isDirectory());
  });

  test('volume directories are closed to other users: root 0701, each volume 0700, _data 0755, also those an older berth made', async () => {
    await volumeOnDisk('old', JSON.stringify({ name: 'old', driver: 'local', labels: {}, options: {}, createdAt: '2026-01-01T00:00:00Z', anonymous: false }), {});
    await chmod(root, 0o755);
    await chmod(join(root, 'old'), 0o755);
    const volumes = service();
    await volumes.load();
    await volumes.create({ name: 'new' });
    const mode = async (path: string) => (await stat(path)).mode & 0o7777;
    assert.equal(await mode(root), 0o701);
    for (const name of ['old', 'new']) {
      assert.equal(await mode(join(root, name)), 0o700, name);
      assert.equal(await mode(join(root, name, '_data')), 0o755, name);
    }
  });

  test('remove refuses while something is mounted in the volume, and deletes nothing', async () => {
    await volumeOnDisk('busy', JSON.stringify({ name: 'busy', driver: 'local', labels: {}, options: {}, createdAt: '2026-01-01T00:00:00Z', anonymous: false }), { 'f.txt': 'x' });
    // The mount table as the kernel writes it: a space in a path is \040.
    const mountinfo = async () => `1 0 8:1 / / rw - ext4 /dev/sda1 rw\n90 1 8:1 /srv/host\\040dir ${join(root, 'busy', '_data')} rw - ext4 /dev/sda1 rw\n`;
    const volumes = service({ mountinfo });
    await volumes.load();
    await assert.rejects(volumes.remove('busy'), (err: unknown) => err instanceof ConflictError && err.message === `remove busy: volume is in use - ${join(root, 'busy', '_data')} is still mounted`);
    assert.equal(await readFile(join(root, 'busy', '_data', 'f.txt'), 'utf8'), 'x');
    assert.deepEqual(await volumes.prune({ all: true, labels: [] }), { deleted: [], reclaimed: 0 });
    assert.equal(await readFile(join(root, 'busy', '_data', 'f.txt'), 'utf8'), 'x');
    assert.deepEqual(volumes.list().map((v) => v.name), ['busy']);
  });

  test('two creates of one name at once both get the one volume', async () => {
    const volumes = service();
    await volumes.load();
    const [a, b] = await Promise.all([volumes.create({ name: 'shared' }), volumes.create({ name: 'shared' })]);
    assert.equal(a, b);
    assert.ok(existsSync(join(root, 'shared', 'volume.json')));
    await volumes.remove('shared');
    assert.equal(existsSync(join(root, 'shared')), false);
  });
});
