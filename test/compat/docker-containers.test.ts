/** The real docker CLI running containers on berthd (conmon + runc), and berthd restarting under them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('docker CLI containers on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);

  test('docker run --rm IMG echo hi prints hi and leaves no container', async () => {
    const r = await run('run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal((await run('ps', '-aq')).stdout, '');
  });

  test('the container\'s exit code is docker run\'s; stderr stays stderr', async () => {
    const r = await run('run', '--rm', 'busybox', 'sh', '-c', 'echo to-err >&2; exit 3');
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'to-err\n');
  });

  test('a command that does not exist exits 127 with the runtime\'s reason', async () => {
    const r = await run('run', '--rm', 'busybox', '/no/such/command');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /no such file or directory/);
  });

  test('a detached container works with ps, logs -f, inspect, stop and rm', async () => {
    const id = (await run('run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done')).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await run('ps');
    assert.match(ps.stdout, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
    assert.match(ps.stdout, new RegExp(`\\n${id.slice(0, 12)} +busybox +"sh -c 'trap .*" +.* ago +Up .* +ticker\\n`));
    await new Promise((r) => setTimeout(r, 500));
    const logs = await run('logs', 'ticker');
    assert.match(logs.stdout, /^tick 0\ntick 1\n/);
    const inspect = JSON.parse((await run('inspect', 'ticker')).stdout)[0] as { Name: string; State: { Status: string; Running: boolean; Pid: number } };
    assert.equal(inspect.Name, '/ticker');
    assert.equal(inspect.State.Status, 'running');
    assert.ok(inspect.State.Pid > 0);
    const follow = docker(daemon.host, ['logs', '-f', '--tail', '1', 'ticker']);
    await new Promise((r) => setTimeout(r, 300));
    const stop = await run('stop', 'ticker');
    assert.equal(stop.stdout, 'ticker\n');
    const followed = await follow;
    assert.equal(followed.code, 0, 'logs -f ends when the container stops');
    assert.match(followed.stdout, /tick \d+\n/);
    assert.equal((await run('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ticker')).stdout, 'exited 0\n');
    assert.equal((await run('rm', 'ticker')).code, 0);
    assert.equal((await run('ps', '-aq')).stdout, '');
  });

  test('logs --tail N gives N lines, also when conmon split a long line into partial records; -t as Docker prints times', async () => {
    const long = 'x'.repeat(20_000);
    const made = await run('run', '--name', 'longline', 'busybox', 'sh', '-c', `echo first; head -c 20000 /dev/zero | tr '\\0' x; echo; echo last`);
    try {
      assert.equal(made.stdout, `first\n${long}\nlast\n`);
      assert.equal((await run('logs', '--tail', '2', 'longline')).stdout, `${long}\nlast\n`);
      assert.equal((await run('logs', '--tail', '1', 'longline')).stdout, 'last\n');
      assert.match((await run('logs', '-t', '--tail', '1', 'longline')).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z last\n$/);
      assert.equal((await run('logs', '--tail', '3', 'longline')).stdout, `first\n${long}\nlast\n`);
    } finally {
      await run('rm', '-f', 'longline');
    }
  });

  test('Docker\'s default capabilities, masked /proc paths, and mount refused without --privileged', async () => {
    const caps = await run('run', '--rm', 'busybox', 'grep', 'CapEff', '/proc/1/status');
    assert.match(caps.stdout, /CapEff:\s+00000000a80425fb/);
    // /proc/kcore where the kernel has it (this VM's kernel does not); these two it always has.
    const masked = await run('run', '--rm', 'busybox', 'sh', '-c', 'for p in /proc/kcore /proc/timer_list /proc/interrupts; do [ -e $p ] && echo "$p $(wc -c < $p)"; done; true');
    assert.match(masked.stdout, /\/proc\/timer_list 0\n/);
    assert.match(masked.stdout, /\/proc\/interrupts 0\n/);
    assert.doesNotMatch(masked.stdout, /\/proc\/kcore [1-9]/);
    const mount = await run('run', '--rm', 'busybox', 'mount', '-t', 'tmpfs', 'none', '/mnt');
    assert.notEqual(mount.code, 0);
    const privileged = await run('run', '--rm', '--privileged', 'busybox', 'mount', '-t', 'tmpfs', 'none', '/mnt');
    assert.equal(privileged.code, 0, privileged.stderr);
  });

  test('--memory 32m: a process that allocates more is OOM-killed (exit 137, OOMKilled true)', async () => {
    const r = await run('run', '--name', 'oomer', '--memory', '32m', 'busybox', 'sh', '-c', 'x=a; while true; do x="$x$x"; done');
    assert.equal(r.code, 137);
    assert.equal((await run('inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oomer')).stdout, 'true 137\n');
    await run('rm', 'oomer');
  });

  test('--pids-limit 20 stops a fork bomb at 20', async () => {
    const r = await run('run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', 'for i in $(seq 1 40); do sleep 3 & done 2>/dev/null; ps | grep -c "sleep 3"');
    assert.ok(Number(r.stdout.trim()) < 20, `only ${r.stdout.trim()} sleeps could start`);
  });

  test('the default seccomp profile filters syscalls; seccomp=unconfined turns it off', async () => {
    const filtered = await run('run', '--rm', 'busybox', 'grep', '^Seccomp:', '/proc/self/status');
    assert.match(filtered.stdout, /Seccomp:\s+2/);
    const unconfined = await run('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', '^Seccomp:', '/proc/self/status');
    assert.match(unconfined.stdout, /Seccomp:\s+0/);
  });

  test('docker exec: output, exit codes, stdin, user, env, workdir, detached, and a missing command', async () => {
    await run('run', '-d', '--name', 'execbox', 'busybox', 'sleep', '60');
    try {
      assert.equal((await run('exec', 'execbox', 'echo', 'hi')).stdout, 'hi\n');
      const failed = await run('exec', 'execbox', 'sh', '-c', 'echo err >&2; exit 5');
      assert.equal(failed.code, 5);
      assert.equal(failed.stderr, 'err\n');
      assert.equal((await docker(daemon.host, ['exec', '-i', 'execbox', 'cat'], { input: 'piped in\n' })).stdout, 'piped in\n');
      assert.equal((await run('exec', '-u', 'nobody', 'execbox', 'id', '-u')).stdout, '65534\n');
      assert.equal((await run('exec', '-e', 'FOO=bar', '-w', '/tmp', 'execbox', 'sh', '-c', 'echo $FOO $(pwd)')).stdout, 'bar /tmp\n');
      assert.equal((await run('exec', '-d', 'execbox', 'sh', '-c', 'echo detached > /tmp/marker')).code, 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await run('exec', 'execbox', 'cat', '/tmp/marker')).stdout, 'detached\n');
      const missing = await run('exec', 'execbox', 'no-such-command');
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /executable file not found/);
    } finally {
      await run('rm', '-f', 'execbox');
    }
  });

  test('rename, pause and unpause', async () => {
    await run('run', '-d', '--name', 'before', 'busybox', 'sleep', '60');
    try {
      assert.equal((await run('rename', 'before', 'after')).code, 0);
      assert.equal((await run('inspect', '-f', '{{.Name}}', 'after')).stdout, '/after\n');
      assert.equal((await run('pause', 'after')).stdout, 'after\n');
      assert.equal((await run('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'after')).stdout, 'paused true\n');
      const again = await run('pause', 'after');
      assert.match(again.stderr, /is already paused/);
      assert.equal((await run('unpause', 'after')).stdout, 'after\n');
      assert.equal((await run('exec', 'after', 'true')).code, 0, 'runs again after unpause');
      await run('pause', 'after');
      assert.match((await run('rm', 'after')).stderr, /container is paused and must be unpaused first/);
      assert.equal((await run('stop', '-t', '1', 'after')).stdout, 'after\n', 'stop thaws a paused container first');
      assert.equal((await run('inspect', '-f', '{{.State.Status}}', 'after')).stdout, 'exited\n');
    } finally {
      await run('rm', '-f', 'before', 'after');
    }
  });

  test('--init runs tini as PID 1; --ulimit sets the limit; --tmpfs size is enforced', async () => {
    const init = await run('run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "');
    assert.match(init.stdout, /^\/sbin\/docker-init -- sh -c /);
    const ulimit = await run('run', '--rm', '--ulimit', 'nofile=100:200', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn');
    assert.equal(ulimit.stdout, '100\n200\n');
    const tmpfs = await run('run', '--rm', '--tmpfs', '/run:size=1m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/run/big bs=1M count=2 2>/dev/null || echo refused; mount | grep " /run "');
    assert.match(tmpfs.stdout, /refused\n/);
    assert.match(tmpfs.stdout, /tmpfs on \/run type tmpfs .*size=1024k/);
  });

  test('rm of a running container is refused without -f; docker rm -f of a missing one succeeds', async () => {
    await run('run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '60');
    const refused = await run('rm', 'sleeper');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /container is running: stop the container before removing or force remove/);
    assert.equal((await run('rm', '-f', 'sleeper')).code, 0);
    assert.equal((await run('rm', '-f', 'sleeper')).code, 0);
  });

  test('options berth does not support yet are refused by name, not ignored', async () => {
    const r = await run('run', '--rm', '--link', 'other:alias', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /not supported by berth yet: HostConfig.Links/);
    assert.equal((await run('ps', '-aq', '--filter', 'status=created')).stdout, '', 'nothing was created');
  });

  test('berthd killed with SIGKILL: containers keep running, and an exit while it was down is recorded', async () => {
    await run('run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'i=0; while true; do echo alive $i; i=$((i+1)); sleep 0.1; done');
    await run('run', '-d', '--name', 'shortlived', 'busybox', 'sh', '-c', 'sleep 1; exit 7');
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    await new Promise((r) => setTimeout(r, 1500));
    const restarted = await startBerthd({ root: daemon.root });
    try {
      const ps = await docker(restarted.host, ['ps', '--format', '{{.Names}} {{.State}}']);
      assert.match(ps.stdout, /survivor running/);
      const exited = await docker(restarted.host, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived']);
      assert.equal(exited.stdout, 'exited 7\n');
      const logs = await docker(restarted.host, ['logs', 'survivor']);
      const numbers = logs.stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
      assert.ok(numbers.length > 15, 'it kept logging while berthd was down');
      assert.deepEqual(numbers, numbers.map((_, i) => i), 'no gap in the log');
      assert.equal((await docker(restarted.host, ['rm', '-f', 'survivor', 'shortlived'])).code, 0);
    } finally {
      await restarted.stop();
    }
  });
});

describe('docker CLI restart policies on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  const inspectState = async (name: string) => JSON.parse((await run('inspect', name)).stdout)[0] as { RestartCount: number; State: { Status: string; Restarting: boolean; ExitCode: number } };
  const until = async (check: () => Promise<boolean>, ms = 10_000) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
    return false;
  };
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('--restart on-failure:2 on a failing container ends exited with RestartCount 2', async () => {
    assert.equal((await run('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3')).code, 0);
    assert.ok(await until(async () => {
      const s = await inspectState('flaky');
      return s.RestartCount === 2 && s.State.Status === 'exited';
    }), 'restarted twice, then left down');
    await new Promise((r) => setTimeout(r, 1000));
    const s = await inspectState('flaky');
    assert.equal(s.RestartCount, 2);
    assert.equal(s.State.ExitCode, 3);
    await run('rm', '-f', 'flaky');
  });

  test('--restart always restarts after the process exits and when berthd starts; stop ends it', async () => {
    assert.equal((await run('run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 0')).code, 0);
    assert.ok(await until(async () => (await inspectState('phoenix')).RestartCount >= 1), 'restarted after a clean exit');
    assert.equal((await run('stop', '-t', '1', 'phoenix')).code, 0);
    const stopped = await inspectState('phoenix');
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await inspectState('phoenix')).RestartCount, stopped.RestartCount, 'a stopped container stays down');
    assert.notEqual((await inspectState('phoenix')).State.Status, 'running');
    // A long-running one that dies while berthd is down comes back when berthd starts.
    assert.equal((await run('run', '-d', '--name', 'keeper', '--restart', 'always', 'busybox', 'sleep', '300')).code, 0);
    await daemon.stop();
    const id = JSON.parse(spawnSync('runc', ['list', '--format', 'json'], { encoding: 'utf8' }).stdout || '[]').find((c: { bundle: string }) => c.bundle.startsWith(daemon.execRoot))?.id as string | undefined;
    if (id) spawnSync('runc', ['kill', id, 'KILL']);
    await new Promise((r) => setTimeout(r, 500));
    daemon = await startBerthd({ root: daemon.root });
    assert.ok(await until(async () => (await inspectState('keeper')).State.Status === 'running'), 'running again after berthd started');
    assert.ok((await inspectState('keeper')).RestartCount >= 1);
    await run('rm', '-f', 'phoenix', 'keeper');
  });

  test('a bad policy, or --rm with a restart policy, is refused with Docker\'s message', async () => {
    const both = await daemon.request('POST', '/containers/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }) });
    assert.equal(both.status, 400);
    assert.match(both.body, /can't create 'AutoRemove' container with restart policy/);
  });
});

describe('docker CLI devices and MAC addresses on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('--device makes the host\'s node in the container (also under another path); a missing one is refused', { skip: toolAvailable('true') && spawnSync('test', ['-c', '/dev/fuse']).status === 0 ? false : 'no /dev/fuse here' }, async () => {
    assert.match((await run('run', '--rm', '--device', '/dev/fuse', 'busybox', 'ls', '-l', '/dev/fuse')).stdout, /^c.* 10, +229 .*\/dev\/fuse\n$/);
    assert.match((await run('run', '--rm', '--device', '/dev/fuse:/dev/other', 'busybox', 'ls', '-l', '/dev/other')).stdout, /^c.* 10, +229 /);
    assert.notEqual((await run('run', '--rm', 'busybox', 'ls', '/dev/fuse')).code, 0, 'not there without --device');
    const missing = await run('run', '--rm', '--device', '/dev/does-not-exist', 'busybox', 'true');
    // The docker CLI turns any "no such file or directory" from the daemon into 127, as with Docker.
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/does-not-exist"/);
  });

  test('--mac-address sets eth0\'s address', async () => {
    const r = await run('run', '--rm', '--mac-address', '02:11:22:33:44:55', 'busybox', 'cat', '/sys/class/net/eth0/address');
    assert.equal(r.stdout, '02:11:22:33:44:55\n', r.stderr);
  });
});

describe('docker CLI log rotation on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('--log-opt max-size/max-file keep the newest output, contiguous, across rotated files', async () => {
    // Four bursts of 500 lines (~28 KB each), with pauses longer than the 1 s rotation check.
    const script = 'i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); if [ $((i % 500)) = 0 ]; then sleep 1.5; fi; done';
    const r = await run('run', '--name', 'chatty', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script);
    assert.equal(r.code, 0, r.stderr);
    const lines = (await run('logs', 'chatty')).stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
    assert.equal(lines[lines.length - 1], 1999);
    assert.ok(lines[0]! > 0, 'the oldest output was dropped');
    for (let i = 1; i < lines.length; i++) assert.equal(lines[i], lines[i - 1]! + 1, 'no gap');
    const bad = await run('run', '--rm', '--log-opt', 'max-file=0', 'busybox', 'true');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid value for log-opt max-file/);
    await run('rm', '-f', 'chatty');
  });
});

describe('docker CLI diff and top on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('docker diff shows added, changed and deleted paths; docker top the container\'s processes', async () => {
    const id = (await run('run', '-d', 'busybox', 'sh', '-c', 'mkdir /newdir && echo x > /newdir/f && echo y >> /etc/passwd && rm /etc/group && touch /ready && exec sleep 300')).stdout.trim();
    try {
      for (let i = 0; i < 50 && (await run('exec', id, 'test', '-e', '/ready')).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const diff = (await run('diff', id)).stdout;
      assert.equal(diff, 'C /etc\nD /etc/group\nC /etc/passwd\nA /newdir\nA /newdir/f\nA /ready\n');
      const top = await run('top', id);
      assert.equal(top.code, 0, top.stderr);
      assert.match(top.stdout, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD\n/);
      assert.match(top.stdout, /\nroot +\d+ +\d+ .* sleep 300\n$/);
      assert.match((await run('top', id, '-o', 'pid,comm')).stdout, /^PID +COMMAND\n\d+ +sleep\n$/);
    } finally {
      await run('rm', '-f', id);
    }
    const stopped = (await run('create', 'busybox', 'true')).stdout.trim();
    const refused = await run('top', stopped);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not running/);
    await run('rm', stopped);
  });
});

describe('docker CLI commit on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('docker commit makes an image of the container\'s changes that docker run runs', async () => {
    const id = (await run('run', '-d', '-e', 'GREETING=hello', 'busybox', 'sh', '-c', 'echo made > /made.txt && rm /etc/group && touch /ready && exec sleep 300')).stdout.trim();
    try {
      for (let i = 0; i < 50 && (await run('exec', id, 'test', '-e', '/ready')).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const committed = await run('commit', '-c', 'CMD ["cat", "/made.txt"]', '-m', 'a note', '-a', 'tester', id, 'committed:1');
      assert.equal(committed.code, 0, committed.stderr);
      assert.match(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
      assert.equal((await run('run', '--rm', 'committed:1')).stdout, 'made\n');
      assert.equal((await run('run', '--rm', 'committed:1', 'sh', '-c', 'echo $GREETING; ls /etc')).stdout, 'hello\nhostname\nhosts\npasswd\nresolv.conf\n');
      const history = (await run('history', '--format', '{{.Comment}}', 'committed:1')).stdout;
      assert.match(history, /^a note\n/);
      assert.equal(JSON.parse((await run('inspect', id)).stdout)[0].State.Running, true, 'running again after the pause');
    } finally {
      await run('rm', '-f', id);
    }
  });
});

describe('docker CLI export and container prune on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('docker export | tar t lists the filesystem (stopped or running), and leaves nothing mounted', async () => {
    const stopped = (await run('create', '--name', 'exp', 'busybox', 'true')).stdout.trim();
    const tarFile = join(daemon.root, 'exp.tar');
    assert.equal((await run('export', '-o', tarFile, 'exp')).code, 0);
    const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout;
    assert.match(listing, /^\.\/bin\/busybox$/m);
    assert.match(listing, /^\.\/etc\/passwd$/m);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!spawnSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).stdout.includes(stopped), 'unmounted after the export');
    const running = (await run('run', '-d', 'busybox', 'sh', '-c', 'echo r > /written && exec sleep 300')).stdout.trim();
    for (let i = 0; i < 50 && (await run('exec', running, 'test', '-e', '/written')).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await run('export', '-o', tarFile, running)).code, 0);
    assert.match(spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout, /^\.\/written$/m);
    await run('rm', '-f', running);
    // prune: the stopped one goes, the running one would stay.
    const kept = (await run('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    const df = await run('system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}');
    assert.match(df.stdout, /^Containers 2 1$/m, df.stdout + df.stderr);
    const pruned = await run('container', 'prune', '-f');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, new RegExp(`Deleted Containers:\\n${stopped}\\n`));
    assert.equal((await run('ps', '-aq', '--no-trunc')).stdout.trim(), kept);
    await run('rm', '-f', kept);
  });
});

describe('docker CLI stats on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('docker stats --no-stream shows the CPU of a busy container and its memory limit; stream=false answers at once', async () => {
    const busy = (await run('run', '-d', '-m', '64m', 'busybox', 'sh', '-c', 'while true; do :; done')).stdout.trim();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const r = await run('stats', '--no-stream', '--format', '{{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', busy);
      assert.equal(r.code, 0, r.stderr);
      const m = /^([\d.]+)% ([\d.]+)([KMG]i?B) \/ 64MiB 1\n$/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.ok(Number(m[1]) > 20, `a busy loop uses CPU: ${m[1]}%`);
      const started = Date.now();
      const once = await daemon.request('GET', `/containers/${busy}/stats?stream=false`);
      assert.ok(Date.now() - started < 500, 'stream=false does not wait for a second sample when it has one');
      const doc = JSON.parse(once.body) as { cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number }; precpu_stats: { cpu_usage: { total_usage: number } }; memory_stats: { limit: number } };
      assert.ok(doc.cpu_stats.cpu_usage.total_usage > doc.precpu_stats.cpu_usage.total_usage);
      assert.equal(doc.memory_stats.limit, 64 * 1024 * 1024);
      const mine = await berth(daemon.host, ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', busy]);
      assert.match(mine.stdout, /^\S+ [\d.]+[KMG]i?B \/ 64MiB\n$/, mine.stderr);
      // docker update on the running container: the new limit shows in stats and inspect.
      const updated = await run('update', '--memory', '128m', '--memory-swap', '256m', '--restart', 'unless-stopped', busy);
      assert.equal(updated.code, 0, updated.stderr);
      assert.match((await run('stats', '--no-stream', '--format', '{{.MemUsage}}', busy)).stdout, / \/ 128MiB\n$/);
      assert.equal((await run('inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}', busy)).stdout, '134217728 unless-stopped\n');
    } finally {
      await run('rm', '-f', busy);
    }
  });
});

describe('docker CLI health checks on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'busybox', changes: ['CMD ["sh"]'] }, { tag: 'checked', changes: ['HEALTHCHECK --interval=300ms CMD test -e /ok'] }]);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('a passing check reaches healthy and a failing one unhealthy, in inspect, ps, its filter and events', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await run('run', '-d', '--name', 'good', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '300')).code, 0);
    assert.equal((await run('run', '-d', '--name', 'bad', '--health-cmd', 'exit 3', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '300')).code, 0);
    // From the image's HEALTHCHECK: unhealthy until the file appears.
    assert.equal((await run('run', '-d', '--name', 'fromimage', 'checked', 'sleep', '300')).code, 0);
    try {
      const status = async (name: string) => (await run('inspect', '-f', '{{.State.Health.Status}}', name)).stdout.trim();
      for (let i = 0; i < 50 && ((await status('good')) !== 'healthy' || (await status('bad')) !== 'unhealthy'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await status('good'), 'healthy');
      assert.equal(await status('bad'), 'unhealthy');
      const bad = JSON.parse((await run('inspect', 'bad')).stdout)[0] as { State: { Running: boolean; Health: { FailingStreak: number; Log: { ExitCode: number }[] } } };
      assert.ok(bad.State.Health.FailingStreak >= 2);
      assert.equal(bad.State.Health.Log.at(-1)!.ExitCode, 3);
      assert.equal(bad.State.Running, true, 'unhealthy alone restarts nothing');
      assert.match((await run('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^good Up .* \(healthy\)$/m);
      assert.equal((await run('ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}')).stdout.includes('bad'), true);
      assert.equal((await run('exec', 'fromimage', 'touch', '/ok')).code, 0);
      for (let i = 0; i < 50 && (await status('fromimage')) !== 'healthy'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await status('fromimage'), 'healthy');
      const events = await run('events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
      assert.match(events.stdout, /^health_status: healthy good$/m);
      assert.match(events.stdout, /^health_status: unhealthy bad$/m);
    } finally {
      await run('rm', '-f', 'good', 'bad', 'fromimage');
    }
  });
});

describe('docker CLI system prune and bad input on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('bad input: a negative health interval, an unknown restart policy, update of a removed container', async () => {
    const before = (await run('ps', '-aq')).stdout;
    const negative = await daemon.request('POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], Interval: -1_000_000_000 } }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(negative.status, 400);
    assert.equal(JSON.parse(negative.body).message, 'Interval in Healthcheck cannot be less than 1ms');
    const policy = await run('run', '-d', '--restart', 'bogus', 'busybox', 'true');
    assert.equal(policy.code, 125);
    assert.match(policy.stderr, /invalid restart policy 'bogus'/);
    const id = (await run('create', 'busybox', 'true')).stdout.trim();
    await run('rm', id);
    const update = await run('update', '--memory', '64m', id);
    assert.equal(update.code, 1);
    assert.match(update.stderr, new RegExp(`No such container: ${id}`));
    assert.equal((await run('ps', '-aq')).stdout, before, 'nothing was created by the refused requests');
  });
  test('system prune takes stopped containers, unused networks and dangling images; -a --volumes the rest it reports', async () => {
    const kept = (await run('run', '-d', '--name', 'kept', 'busybox', 'sleep', '300')).stdout.trim();
    const stopped = (await run('create', '--name', 'stopped', 'busybox', 'true')).stdout.trim();
    assert.equal((await run('network', 'create', 'unused-net')).code, 0);
    assert.equal((await run('volume', 'create', 'unused-vol')).code, 0);
    assert.equal((await run('tag', 'busybox', 'localhost/spare:1')).code, 0);
    const dangling = (await run('commit', stopped)).stdout.trim();
    const pruned = await run('system', 'prune', '-f');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, new RegExp(`Deleted Containers:\\n${stopped}\\n`));
    assert.match(pruned.stdout, /Deleted Networks:\nunused-net\n/);
    assert.match(pruned.stdout, new RegExp(`deleted: ${dangling}`));
    assert.match(pruned.stdout, /Total reclaimed space: /);
    assert.equal((await run('ps', '-aq', '--no-trunc')).stdout.trim(), kept);
    assert.match((await run('volume', 'ls', '-q')).stdout, /unused-vol/, 'volumes stay without --volumes');
    await run('rm', '-f', kept);
    const all = await run('system', 'prune', '-a', '--volumes', '-f');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /untagged: localhost\/spare:1/);
    assert.equal((await run('images', '-q')).stdout, '');
    const df = await run('system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Size}}');
    assert.match(df.stdout, /^Images 0 0B$/m);
    assert.match(df.stdout, /^Containers 0 0B$/m);
  });
});

describe('docker CLI --pid, --ipc, --uts and --sysctl on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const ns = (type: string) => readlinkSync(`/proc/self/ns/${type}`);

  test('host namespaces are the host\'s; container:X joins X\'s; a shareable donor shares /dev/shm', async () => {
    const host = await run('run', '--rm', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname');
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stdout, `${ns('pid')}\n${ns('ipc')}\n${ns('uts')}\n${hostname()}\n`);
    const own = await run('run', '--rm', 'busybox', 'readlink', '/proc/self/ns/pid');
    assert.notEqual(own.stdout.trim(), ns('pid'), 'by default a container has its own');
    const donor = (await run('run', '-d', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo shared > /dev/shm/x; exec sleep 300')).stdout.trim();
    const plain = (await run('run', '-d', 'busybox', 'sleep', '300')).stdout.trim();
    try {
      for (let i = 0; i < 50 && (await run('exec', donor, 'test', '-e', '/dev/shm/x')).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const donorNs = (await run('exec', donor, 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc')).stdout;
      const joined = await run('run', '--rm', '--pid', `container:${donor}`, '--ipc', `container:${donor}`, 'busybox', 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /dev/shm/x; pidof sleep');
      assert.equal(joined.code, 0, joined.stderr);
      assert.match(joined.stdout, new RegExp(`^${donorNs.replace(/[[\]]/g, '\\$&')}shared\n1\n$`));
      const refused = await run('run', '--rm', '--ipc', `container:${plain}`, 'busybox', 'true');
      assert.equal(refused.code, 125);
      assert.match(refused.stderr, /non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
      const none = await run('run', '--rm', '--ipc', 'none', 'busybox', 'ls', '/dev/shm');
      assert.notEqual(none.code, 0, '--ipc none has no /dev/shm');
    } finally {
      await run('rm', '-f', donor, plain);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${donor}/shm`), 'the donor\'s host-side /dev/shm is unmounted');
  });

  test('--hostname and --domainname: the UTS names and /etc/hosts as Docker writes them', async () => {
    const r = await run('run', '--rm', '-h', 'web', '--domainname', 'example.test', 'busybox', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname; grep -c "web.example.test\tweb$" /etc/hosts');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'web\nexample.test\n1\n');
    const mine = await berth(daemon.host, ['run', '--rm', '--domainname', 'berth.test', 'busybox', 'cat', '/proc/sys/kernel/domainname']);
    assert.equal(mine.stdout, 'berth.test\n', mine.stderr);
  });

  test('--sysctl sets namespaced parameters; bad modes and a hostname with --uts host are refused', async () => {
    const r = await run('run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.msgmax=12345', 'busybox', 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n12345\n');
    const conflict = await run('run', '--rm', '--uts', 'host', '-h', 'named', 'busybox', 'true');
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /conflicting options: hostname and the UTS mode/);
    for (const [field, message] of [['PidMode', 'invalid PID mode: bogus'], ['IpcMode', 'invalid IPC mode: bogus'], ['UTSMode', 'invalid UTS mode: bogus']] as const) {
      const res = await daemon.request('POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { [field]: 'bogus' } }), headers: { 'Content-Type': 'application/json' } });
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).message, message);
    }
    const stopped = (await run('create', 'busybox', 'true')).stdout.trim();
    const join = await run('run', '--rm', '--pid', `container:${stopped}`, 'busybox', 'true');
    assert.equal(join.code, 125);
    assert.match(join.stderr, /cannot join PID of a non running container/);
    await run('rm', stopped);
  });
});
