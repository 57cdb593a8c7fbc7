import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeImageConfig } from './image-config-merge.js';
import { commandOf } from './container-process.js';

const image = { Entrypoint: ['echo', 'img'], Cmd: ['default'], Env: ['IMG=1', 'PATH=/bin'], Labels: { img: 'yes' }, WorkingDir: '/w', StopSignal: 'SIGUSR1' };

test('the image fills what the client left empty; the client\'s values win', () => {
  const merged = mergeImageConfig({ Image: 'x', Env: ['IMG=2', 'A=1'], Labels: { a: 'b' }, Entrypoint: null, Cmd: null }, image);
  assert.deepEqual(merged.Env, ['IMG=2', 'A=1', 'PATH=/bin']);
  assert.deepEqual(merged.Labels, { img: 'yes', a: 'b' });
  assert.deepEqual(commandOf(merged), ['echo', 'img', 'default']);
  assert.equal(merged.WorkingDir, '/w');
  assert.equal(merged.StopSignal, 'SIGUSR1');
});

test('Entrypoint [""] (docker run --entrypoint "") clears the image\'s and drops its Cmd', () => {
  const merged = mergeImageConfig({ Image: 'x', Entrypoint: [''], Cmd: ['ls', '-l'] }, image);
  assert.equal(merged.Entrypoint, null);
  assert.deepEqual(commandOf(merged), ['ls', '-l']);
  assert.throws(() => commandOf(mergeImageConfig({ Image: 'x', Entrypoint: [''] }, image)), /no command specified/);
});

test('Entrypoint [] (the builder\'s RUN) runs the Cmd alone; a Cmd without Entrypoint keeps the image\'s Entrypoint', () => {
  assert.deepEqual(commandOf(mergeImageConfig({ Image: 'x', Entrypoint: [], Cmd: ['sh', '-c', 'x'] }, image)), ['sh', '-c', 'x']);
  assert.deepEqual(commandOf(mergeImageConfig({ Image: 'x', Cmd: ['y'] }, image)), ['echo', 'img', 'y']);
  assert.deepEqual(commandOf(mergeImageConfig({ Image: 'x', Entrypoint: ['/bin/true'] }, image)), ['/bin/true']);
});

test('a Healthcheck\'s zero fields come from the image\'s', () => {
  const merged = mergeImageConfig({ Image: 'x', Healthcheck: { Test: ['NONE'] } }, { Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9 } });
  assert.deepEqual(merged.Healthcheck, { Test: ['NONE'], Interval: 5e9 });
});
