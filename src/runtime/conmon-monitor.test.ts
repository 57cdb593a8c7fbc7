/** A real container under conmon and runc: created, started, logged, exit code recorded. Root only. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConmonMonitor } from './conmon-monitor.js';
import { buildRuntimeSpec, DEFAULT_CAPABILITIES } from '../oci/runtime-spec.js';
import { readLogFile } from '../logs/k8s-file.js';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';

const available = process.getuid?.() === 0 && spawnSync('which', ['conmon', 'runc']).status === 0;
const REPO = resolve(new URL('../..', import.meta.url).pathname);

describe('conmon + runc', { skip: available ? false : 'needs root, conmon and runc' }, () => {
  let dir: string;
  let rootfs: string;
  // A cgroup parent of this run's own, removed at the end (runc removes only the leaves).
  const cgroupParent = `berth-test-${randomBytes(4).toString('hex')}`;
  const monitor = new ConmonMonitor('conmon', new ChildProcessCommandRunner());
  const runc = execFileSync('which', ['runc'], { encoding: 'utf8' }).trim();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-conmon-'));
    rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs);
    execFileSync('sh', ['-c', `${join(REPO, 'scripts', 'make-busybox-rootfs')} - | tar -x -C ${rootfs}`]);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const path = join('/sys/fs/cgroup', controller, cgroupParent);
      if (existsSync(path)) rmdirSync(path);
    }
    if (existsSync(join('/sys/fs/cgroup', cgroupParent))) rmdirSync(join('/sys/fs/cgroup', cgroupParent));
  });

  const runContainer = async (args: string[]) => {
    const id = randomBytes(32).toString('hex');
    const bundle = join(dir, id.slice(0, 12));
    for (const sub of ['exits', 'sockets']) mkdirSync(join(bundle, sub), { recursive: true });
    const spec = buildRuntimeSpec({
      process: { args, env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], terminal: false, capabilities: DEFAULT_CAPABILITIES, noNewPrivileges: false, rlimits: [] },
      rootfs,
      readonlyRootfs: true,
      hostname: id.slice(0, 12),
      mounts: [],
      shmSizeBytes: 64 * 1024 * 1024,
      cgroupsPath: `/${cgroupParent}/${id}`,
      privileged: false,
      resources: {},
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const spec2 = { id, name: `test-${id.slice(0, 6)}`, bundleDir: bundle, runtimePath: runc, logPath: join(bundle, 'ctr.log'), exitDir: join(bundle, 'exits'), socketDir: join(bundle, 'sockets'), logSizeMax: -1, stdin: false, leaveStdinOpen: false, terminal: false };
    try {
      const { pid } = await monitor.create(spec2);
      assert.ok(pid > 0);
      assert.equal((await monitor.state(id, runc))?.status, 'created');
      await monitor.start(id, runc);
      const code = await monitor.waitExit(spec2.exitDir, id);
      const records = [];
      for await (const record of readLogFile(spec2.logPath)) records.push(record);
      return { code, records };
    } finally {
      await monitor.delete(id, runc);
    }
  };

  test('output goes to the log by stream, and the exit code is recorded', async () => {
    const { code, records } = await runContainer(['sh', '-c', 'echo hello; echo oops >&2; printf partial; exit 3']);
    assert.equal(code, 3);
    assert.deepEqual(records.filter((r) => r.stream === 'stdout').map((r) => r.text).join(''), 'hello\npartial');
    assert.deepEqual(records.filter((r) => r.stream === 'stderr').map((r) => r.text), ['oops\n']);
  });

  test('the default spec gives Docker\'s capabilities and masks /proc/kcore', async () => {
    const { code, records } = await runContainer(['sh', '-c', 'grep CapEff /proc/1/status; cat /proc/kcore | wc -c; touch /etc/x 2>&1 || echo read-only']);
    assert.equal(code, 0);
    const out = records.map((r) => r.text).join('');
    assert.match(out, /CapEff:\s+00000000a80425fb\n/);
    assert.match(out, /^0$/m, '/proc/kcore reads as empty');
    assert.match(out, /read-only/);
  });

  test('a runtime error is reported, not hidden', async () => {
    await assert.rejects(runContainer(['/no/such/binary']), /could not create the container|no such file/i);
  });

  test('nothing is left behind', () => {
    const left = spawnSync('runc', ['list', '-q'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left.split('\n').filter((id) => id.length === 64 && existsSync(join(dir, id.slice(0, 12)))).length, 0);
  });
});
