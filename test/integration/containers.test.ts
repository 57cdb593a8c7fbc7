/** The berth CLI running containers: run, exec, ps, logs, stop, restart, rm. Root, conmon and runc. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { berth } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';

const ready = process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('berth CLI containers', { skip: ready ? false : 'needs root, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    assert.equal((await berth(daemon.host, ['import', '-c', 'CMD ["sh"]', rootfs, 'busybox'])).code, 0);
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const cli = (...args: string[]) => berth(daemon.host, args);

  test('berth run prints the output and exits with the container\'s code', async () => {
    const ok = await cli('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'out\n');
    assert.equal(ok.stderr, 'err\n');
    assert.equal((await cli('run', '--rm', 'busybox', 'sh', '-c', 'exit 42')).code, 42);
    const missing = await cli('run', '--rm', '--pull', 'never', 'no-such-image', 'true');
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /No such image: no-such-image:latest/);
  });

  test('a detached container: ps, logs, exec, restart, stop, rm', async () => {
    const id = (await cli('run', '-d', '--name', 'worker', '-e', 'GREETING=hello', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; echo $GREETING; while true; do sleep 0.1; done')).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.match((await cli('ps')).stdout, new RegExp(`\\n${id.slice(0, 12)} +busybox +.*Up .* +worker\\n`));
    assert.equal((await cli('ps', '-q')).stdout, `${id.slice(0, 12)}\n`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await cli('logs', 'worker')).stdout, 'hello\n');
    const exec = await cli('exec', 'worker', 'sh', '-c', 'echo $GREETING from exec; exit 3');
    assert.equal(exec.stdout, 'hello from exec\n');
    assert.equal(exec.code, 3);
    assert.equal((await cli('restart', '-t', '2', 'worker')).stdout, 'worker\n');
    assert.match((await cli('inspect', '-f', '{{.State.Status}}', 'worker')).stdout, /^running\n$/);
    assert.equal((await cli('stop', 'worker')).stdout, 'worker\n');
    assert.equal((await cli('ps', '-a', '--format', '{{.Names}} {{.State}}')).stdout, 'worker exited\n');
    assert.equal((await cli('wait', 'worker')).stdout, '0\n');
    assert.equal((await cli('rm', 'worker')).stdout, 'worker\n');
    assert.equal((await cli('ps', '-aq')).stdout, '');
  });

  test('names are unique and must be valid', async () => {
    await cli('create', '--name', 'taken', 'busybox', 'true');
    const again = await cli('create', '--name', 'taken', 'busybox', 'true');
    assert.equal(again.code, 125);
    assert.match(again.stderr, /Conflict\. The container name "\/taken" is already in use/);
    const bad = await cli('create', '--name', 'bad name!', 'busybox', 'true');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /Invalid container name/);
    await cli('rm', 'taken');
  });

  test('images used by a container cannot be removed without force', async () => {
    await cli('create', '--name', 'holder', 'busybox', 'true');
    const rmi = await cli('rmi', 'busybox');
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, /conflict: unable to remove repository reference "busybox" \(must force\) - container [a-f0-9]{12} is using its referenced image/);
    await cli('rm', 'holder');
  });
});
