import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountPointsWithin, parseMountPoints } from './mount-points.js';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '90 22 8:1 /srv/a\\040b /var/lib/berth/volumes/v/_data rw - ext4 /dev/sda1 rw',
  '91 22 0:50 / /var/lib/berth/volumes/v2/_data/sub\\011tab rw - tmpfs tmpfs rw',
  '92 22 0:51 / /var/lib/berth/volumes/v22 rw - tmpfs tmpfs rw',
  '',
].join('\n');

test('mount points are decoded from the kernel\'s octal escapes', () => {
  assert.deepEqual(parseMountPoints(MOUNTINFO), ['/', '/var/lib/berth/volumes/v/_data', '/var/lib/berth/volumes/v2/_data/sub\ttab', '/var/lib/berth/volumes/v22']);
});

test('a mount point counts within a directory when it is the directory or below it, not a sibling with the same prefix', () => {
  assert.deepEqual(mountPointsWithin('/var/lib/berth/volumes/v', MOUNTINFO), ['/var/lib/berth/volumes/v/_data']);
  assert.deepEqual(mountPointsWithin('/var/lib/berth/volumes/v2', MOUNTINFO), ['/var/lib/berth/volumes/v2/_data/sub\ttab']);
  assert.deepEqual(mountPointsWithin('/var/lib/berth/volumes/v22', MOUNTINFO), ['/var/lib/berth/volumes/v22']);
  assert.deepEqual(mountPointsWithin('/var/lib/berth/volumes/v3', MOUNTINFO), []);
});
