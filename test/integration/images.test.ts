import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { berth } from '../helpers/cli.js';
import { leftoverTempFiles, makeBusyboxRootfs } from '../helpers/images.js';
import { buildTar } from '../../src/archive/tar-writer.js';

describe('images through the berth CLI and the API', () => {
  let daemon: TestDaemon;
  let rootfs: string;
  before(async () => {
    daemon = await startBerthd();
    rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const cli = (...args: string[]) => berth(daemon.host, args);
  const imageCount = async () => JSON.parse((await daemon.request('GET', '/images/json')).body).length as number;

  test('import with changes, then list, inspect and history show it as Docker does', async () => {
    const imported = await cli('import', '-c', 'CMD ["/bin/sh"]', '-c', 'ENV A=1', '-c', 'LABEL team=core', '-m', 'first', rootfs, 'test/busybox:1');
    assert.equal(imported.code, 0, imported.stderr);
    const id = imported.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);

    const list = await cli('images');
    assert.match(list.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n/);
    assert.match(list.stdout, new RegExp(`\\ntest/busybox +1 +${id.slice(7, 19)} +(Less than a second|\\d+ seconds?) ago +\\d(\\.\\d+)?MB\\n`));

    const inspect = JSON.parse((await cli('image', 'inspect', 'test/busybox:1')).stdout) as Record<string, any>[];
    assert.equal(inspect.length, 1);
    const image = inspect[0]!;
    assert.equal(image['Id'], id);
    assert.deepEqual(image['RepoTags'], ['test/busybox:1']);
    assert.deepEqual(image['Config'].Cmd, ['/bin/sh']);
    assert.deepEqual(image['Config'].Env, ['A=1']);
    assert.deepEqual(image['Config'].Labels, { team: 'core' });
    assert.equal(image['Comment'], 'first');
    assert.equal(image['Os'], 'linux');
    assert.equal(image['RootFS'].Type, 'layers');
    assert.equal(image['RootFS'].Layers.length, 1);
    assert.ok(image['Size'] > 1_000_000);

    const history = await cli('history', 'test/busybox:1');
    assert.match(history.stdout, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n/);
    assert.match(history.stdout, new RegExp(`\\n${id.slice(7, 19)} .* first\\n$`));

    const byPrefix = await cli('image', 'inspect', '-f', '{{.Id}}', id.slice(7, 14));
    assert.equal(byPrefix.stdout.trim(), id);
  });

  test('tag adds a reference; rmi untags, then deletes with the last one', async () => {
    assert.equal((await cli('tag', 'test/busybox:1', 'localhost:5000/team/app:1.2')).code, 0);
    const tags = JSON.parse((await cli('image', 'inspect', 'localhost:5000/team/app:1.2')).stdout)[0].RepoTags;
    assert.deepEqual(tags.sort(), ['localhost:5000/team/app:1.2', 'test/busybox:1']);

    const id = JSON.parse((await cli('image', 'inspect', 'test/busybox:1')).stdout)[0].Id as string;
    const byId = await cli('rmi', id.slice(7, 19));
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, /conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/);

    const untag = await cli('rmi', 'localhost:5000/team/app:1.2');
    assert.equal(untag.stdout, 'Untagged: localhost:5000/team/app:1.2\n');
    assert.equal(await imageCount(), 1);
  });

  test('bad references get Docker\'s messages', async () => {
    const upper = await cli('tag', 'test/busybox:1', 'library/Busybox');
    assert.notEqual(upper.code, 0);
    assert.match(upper.stderr, /invalid reference format: repository name \(library\/Busybox\) must be lowercase/);
    const missing = await cli('image', 'inspect', 'no-such-image');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: no-such-image/);
    const api = await daemon.request('GET', '/images/no-such-image:9/json');
    assert.equal(api.status, 404);
    assert.equal(JSON.parse(api.body).message, 'No such image: no-such-image:9');
  });

  test('save then load gives back the same image ID', async () => {
    const archive = join(daemon.root, 'saved.tar');
    const id = JSON.parse((await cli('image', 'inspect', 'test/busybox:1')).stdout)[0].Id as string;
    assert.equal((await cli('save', '-o', archive, 'test/busybox:1')).code, 0);
    const removed = await cli('rmi', 'test/busybox:1');
    assert.match(removed.stdout, /Untagged: test\/busybox:1\nDeleted: sha256:/);
    assert.equal(await imageCount(), 0);
    const loaded = await cli('load', '-i', archive);
    assert.equal(loaded.stdout, 'Loaded image: test/busybox:1\n');
    assert.equal(JSON.parse((await cli('image', 'inspect', 'test/busybox:1')).stdout)[0].Id, id);
  });

  test('system df counts the images and their layers', async () => {
    const df = JSON.parse((await daemon.request('GET', '/v1.50/system/df')).body);
    assert.equal(df.Images.length, 1);
    assert.ok(df.LayersSize > 1_000_000);
    assert.deepEqual(df.Containers, []);
  });

  test('image events: import, tag, untag, delete, load', async () => {
    const now = Math.floor(Date.now() / 1000) + 1;
    const res = await daemon.request('GET', `/events?since=0&until=${now}&filters=${encodeURIComponent('{"type":{"image":true}}')}`);
    const actions = res.body.trim().split('\n').map((line) => JSON.parse(line).Action);
    for (const action of ['import', 'tag', 'untag', 'delete', 'load']) assert.ok(actions.includes(action), `${action} in ${actions.join(',')}`);
  });

  test('prune removes dangling images, and with all every unused one', async () => {
    writeFileSync(join(daemon.root, 'tiny.tar'), buildTar([{ name: 'hello', data: 'hello' }]));
    assert.equal((await cli('import', join(daemon.root, 'tiny.tar'))).code, 0);
    assert.equal(await imageCount(), 2);
    const prune = await cli('image', 'prune', '-f');
    assert.match(prune.stdout, /^Deleted Images:\ndeleted: sha256:/);
    assert.equal(await imageCount(), 1);
    const all = await cli('image', 'prune', '-a', '-f');
    assert.match(all.stdout, /untagged: test\/busybox:1/);
    assert.equal(await imageCount(), 0);
    const df = JSON.parse((await daemon.request('GET', '/system/df')).body);
    assert.equal(df.LayersSize, 0, 'layers freed with their last image');
    assert.deepEqual(leftoverTempFiles(daemon.dataRoot), []);
  });

  describe('bad input: a clear error, no image, nothing left behind', () => {
    const expectNothingRegistered = async (before: number) => {
      assert.equal(await imageCount(), before);
      assert.deepEqual(leftoverTempFiles(daemon.dataRoot), []);
      assert.equal(readFileSync('/proc/mounts', 'utf8').includes(daemon.root), false, 'no mounts');
    };

    test('import of a truncated gzip', async () => {
      const before = await imageCount();
      const gz = gzipSync(readFileSync(rootfs));
      writeFileSync(join(daemon.root, 'trunc.tar.gz'), gz.subarray(0, gz.length / 2));
      const r = await cli('import', join(daemon.root, 'trunc.tar.gz'), 'bad:gz');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /invalid layer: .*(gzip|truncated)/);
      await expectNothingRegistered(before);
    });

    test('import of garbage instead of a tar', async () => {
      const before = await imageCount();
      writeFileSync(join(daemon.root, 'garbage'), 'not a tar archive, definitely not\n'.repeat(40));
      const r = await cli('import', join(daemon.root, 'garbage'), 'bad:garbage');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /invalid layer: .*not a tar archive/);
      await expectNothingRegistered(before);
    });

    test('load of an archive whose blob does not match its digest', async () => {
      const before = await imageCount();
      const fake = `blobs/sha256/${'ab'.repeat(32)}`;
      writeFileSync(join(daemon.root, 'mismatch.tar'), buildTar([{ name: fake, data: 'something else' }, { name: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' }]));
      const r = await cli('load', '-i', join(daemon.root, 'mismatch.tar'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not match its digest/);
      await expectNothingRegistered(before);
    });

    test('load of a manifest naming a missing layer', async () => {
      const before = await imageCount();
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'cd'.repeat(32)}`] } });
      const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: ['bad:missing'], Layers: ['layer/layer.tar'] }]);
      writeFileSync(join(daemon.root, 'missing.tar'), buildTar([{ name: 'config.json', data: config }, { name: 'manifest.json', data: manifest }]));
      const r = await cli('load', '-i', join(daemon.root, 'missing.tar'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /layer layer\/layer.tar is missing from the archive/);
      await expectNothingRegistered(before);
    });

    test('load of a layer whose content does not match the config\'s DiffID', async () => {
      const before = await imageCount();
      const layer = buildTar([{ name: 'f', data: 'f' }]);
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'ef'.repeat(32)}`] } });
      const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: ['bad:diffid'], Layers: ['l.tar'] }]);
      writeFileSync(join(daemon.root, 'diffid.tar'), buildTar([{ name: 'config.json', data: config }, { name: 'l.tar', data: layer }, { name: 'manifest.json', data: manifest }]));
      const r = await cli('load', '-i', join(daemon.root, 'diffid.tar'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /digest mismatch/);
      await expectNothingRegistered(before);
    });

    test('load of garbage', async () => {
      const before = await imageCount();
      writeFileSync(join(daemon.root, 'garbage.tar'), Buffer.alloc(4096, 7));
      const r = await cli('load', '-i', join(daemon.root, 'garbage.tar'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /invalid archive/);
      await expectNothingRegistered(before);
    });
  });
});
