/**
 * Replays what the real docker CLI sent for the commands berth implements, in order, and checks
 * each answer is a success (or the documented status).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { loadCapturedCommands, requestTarget } from '../helpers/captured-requests.js';
import { makeBusyboxRootfs } from '../helpers/images.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Commands whose whole request sequence berth answers today; later capabilities add theirs. */
const IMPLEMENTED = [
  'docker version',
  'docker info',
  'docker events --since 1m --until 0s --filter type=container',
  'docker images',
  'docker tag alpine localhost:5000/alpine:v1',
  'docker save -o x.tar alpine',
  'docker rmi alpine',
  'docker system df',
];

describe('captured docker CLI requests replayed against berthd', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
    // The capture names an image "alpine"; a busybox import stands in for it.
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    const imported = await daemon.request('POST', '/images/create?fromSrc=-&repo=alpine', { body: readFileSync(rootfs), headers: { 'Content-Type': 'text/plain' } });
    assert.match(imported.body, /"status":"sha256:/);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  const captured = loadCapturedCommands();
  for (const name of IMPLEMENTED) {
    test(name, async () => {
      const command = captured.find((c) => c.command === name);
      assert.ok(command, `${name} is in the capture`);
      for (const request of command.requests) {
        const body = request.body === undefined ? undefined : JSON.stringify(request.body);
        const res = await daemon.request(request.method, requestTarget(request), {
          body,
          headers: body ? { 'Content-Type': 'application/json' } : {},
        });
        assert.ok(res.status < 400, `${request.method} ${request.path}: ${res.status} ${res.body}`);
      }
    });
  }
});
