import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './image-changes.js';

test('CMD and ENTRYPOINT in exec and shell form', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["sh", "-c", "echo hi"]']).Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({}, ['ENTRYPOINT ["/bin/busybox"]']).Entrypoint, ['/bin/busybox']);
  assert.deepEqual(applyChanges({}, ['CMD [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
});

test('ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
  const config = applyChanges({ Env: ['PATH=/bin'] }, [
    'ENV A=1 B="two words"',
    'ENV PATH /usr/bin:/bin',
    'LABEL org.test=yes "x y"=z',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data"]',
    'USER 1000:1000',
    'WORKDIR /srv',
    'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(config.Env, ['PATH=/usr/bin:/bin', 'A=1', 'B=two words']);
  assert.deepEqual(config.Labels, { 'org.test': 'yes', 'x y': 'z' });
  assert.deepEqual(config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(config.Volumes, { '/data': {} });
  assert.equal(config.User, '1000:1000');
  assert.equal(config.WorkingDir, '/srv');
  assert.equal(config.StopSignal, 'SIGINT');
});

test('HEALTHCHECK with flags, and NONE', () => {
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost']).Healthcheck, {
    Interval: 5_000_000_000,
    Retries: 3,
    Test: ['CMD-SHELL', 'wget -q localhost'],
  });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test('instructions that change the filesystem are refused', () => {
  assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /RUN is not a valid change command/);
});
