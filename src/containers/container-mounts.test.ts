import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootfsPropagationFor, type MountRecord } from './container-mounts.js';

const bind = (Source: string, Propagation: string): MountRecord => ({ Type: 'bind', Source, Destination: '/d', Mode: '', RW: true, Propagation });
// /proc/self/mountinfo lines: the root private, /srv shared, /srv/slave a slave, a path with a space shared.
const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '40 26 0:40 / /srv rw,relatime shared:7 - tmpfs tmpfs rw',
  '41 40 0:41 / /srv/slave rw,relatime master:7 - tmpfs tmpfs rw',
  '42 26 0:42 / /with\\040space rw shared:9 - tmpfs tmpfs rw',
].join('\n');

test('shared and slave binds need a shared (or slave) host mount, with moby\'s message', async (t) => {
  // realpath needs real paths: a private temp dir stands for the private root.
  const dir = await mkdtemp(join(tmpdir(), 'berth-propagation-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await rootfsPropagationFor([bind(dir, 'rprivate'), bind(dir, 'private')], MOUNTINFO), undefined);
  await assert.rejects(rootfsPropagationFor([bind(dir, 'rshared')], MOUNTINFO), { message: `path ${dir} is mounted on / but it is not a shared mount` });
  await assert.rejects(rootfsPropagationFor([bind(dir, 'slave')], MOUNTINFO), { message: `path ${dir} is mounted on / but it is not a shared or slave mount` });
});

test('the rootfs becomes shared for a shared bind, rslave for a slave one', async () => {
  const info = (mountPoint: string) => `${MOUNTINFO}\n50 26 0:50 / ${mountPoint} rw shared:11 - tmpfs tmpfs rw`;
  const dir = tmpdir();
  assert.equal(await rootfsPropagationFor([bind(dir, 'rslave')], info(dir)), 'rslave');
  assert.equal(await rootfsPropagationFor([bind(dir, 'rshared')], info(dir)), 'shared');
  assert.equal(await rootfsPropagationFor([bind(dir, 'shared'), bind(dir, 'slave')], info(dir)), 'shared');
});
