/**
 * A field sent is a field kept (issue 18): every `docker create` flag berth accepts shows in
 * `docker inspect` as Docker shows it (moby's Config and HostConfig for API 1.50, the image's config
 * merged in at create), is what runs, and every flag berth does not apply is refused by name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import type { TestDaemon } from '../helpers/berthd.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

/** An image with every config field an image can carry, to see what create merges in. */
const APP_IMAGE = {
  tag: 'app',
  changes: ['ENV IMG=1', 'ENTRYPOINT ["echo","from-image"]', 'CMD ["default-cmd"]', 'LABEL img=yes', 'STOPSIGNAL SIGUSR1', 'EXPOSE 7000', 'WORKDIR /tmp', 'VOLUME /data', 'HEALTHCHECK --interval=5s CMD true'],
};

interface Row {
  /** docker create arguments after the flags berth adds (--pull never, --name): flags, image, command. */
  args: string[];
  format: string;
  expected: string;
}

const HEALTH = '{"Test":["CMD-SHELL","true"],"Interval":2000000000,"Timeout":3000000000,"StartPeriod":5000000000,"StartInterval":1000000000,"Retries":4}';

const CONFIG_ROWS: Row[] = [
  { args: ['busybox'], format: '{{json .Config.Env}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Volumes}} {{json .Config.OnBuild}} {{json .Config.Labels}} {{json .Config.StopTimeout}} {{json .Config.Healthcheck}}', expected: 'null ["sh"] null null null {} null null' },
  { args: ['app'], format: '{{json .Config.Env}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.WorkingDir}} {{json .Config.Volumes}} {{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.StopSignal}}', expected: '["IMG=1"] ["echo","from-image"] ["default-cmd"] /tmp {"/data":{}} {"7000/tcp":{}} {"img":"yes"} SIGUSR1' },
  { args: ['app'], format: '{{json .Config.Healthcheck}}', expected: '{"Test":["CMD-SHELL","true"],"Interval":5000000000}' },
  { args: ['app', 'x'], format: '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Path}} {{json .Args}}', expected: '["echo","from-image"] ["x"] echo ["from-image","x"]' },
  { args: ['--entrypoint', '', 'app', 'echo', 'hi'], format: '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Path}} {{json .Args}}', expected: 'null ["echo","hi"] echo ["hi"]' },
  { args: ['--entrypoint', '/bin/echo', 'app'], format: '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Path}} {{json .Args}}', expected: '["/bin/echo"] null /bin/echo []' },
  { args: ['--entrypoint', 'sh -c', 'busybox', 'true'], format: '{{json .Config.Entrypoint}} {{.Path}}', expected: '["sh -c"] sh -c' },
  { args: ['-h', 'h1', '--domainname', 'example.test', 'busybox'], format: '{{.Config.Hostname}} {{.Config.Domainname}}', expected: 'h1 example.test' },
  { args: ['-u', '1000:1000', 'busybox'], format: '{{.Config.User}}', expected: '1000:1000' },
  { args: ['-e', 'A=1', 'app'], format: '{{json .Config.Env}}', expected: '["A=1","IMG=1"]' },
  { args: ['-e', 'IMG=2', 'app'], format: '{{json .Config.Env}}', expected: '["IMG=2"]' },
  { args: ['--expose', '81', 'app'], format: '{{json .Config.ExposedPorts}}', expected: '{"7000/tcp":{},"81/tcp":{}}' },
  { args: ['-t', '-i', 'busybox'], format: '{{.Config.Tty}} {{.Config.OpenStdin}} {{.Config.AttachStdin}}', expected: 'true true true' },
  { args: ['-w', '/srv', 'app'], format: '{{.Config.WorkingDir}}', expected: '/srv' },
  { args: ['-l', 'a=b', 'app'], format: '{{json .Config.Labels}}', expected: '{"a":"b","img":"yes"}' },
  { args: ['--stop-signal', 'SIGUSR2', 'app'], format: '{{.Config.StopSignal}}', expected: 'SIGUSR2' },
  { args: ['--stop-timeout', '1', 'busybox'], format: '{{json .Config.StopTimeout}}', expected: '1' },
  { args: ['--health-cmd', 'true', '--health-interval', '2s', '--health-timeout', '3s', '--health-retries', '4', '--health-start-period', '5s', '--health-start-interval', '1s', 'busybox'], format: '{{json .Config.Healthcheck}}', expected: HEALTH },
  { args: ['--health-cmd', 'exit 0', 'app'], format: '{{json .Config.Healthcheck}}', expected: '{"Test":["CMD-SHELL","exit 0"],"Interval":5000000000}' },
  { args: ['--no-healthcheck', 'busybox'], format: '{{json .Config.Healthcheck}}', expected: '{"Test":["NONE"]}' },
  // moby's merge fills the zero fields from the image's HEALTHCHECK even when the test is NONE.
  { args: ['--no-healthcheck', 'app'], format: '{{json .Config.Healthcheck}}', expected: '{"Test":["NONE"],"Interval":5000000000}' },
];

const HOST_CONFIG_ROWS: Row[] = [
  {
    args: ['busybox'],
    format: '{{json .HostConfig.Binds}} {{.HostConfig.NetworkMode}} {{json .HostConfig.RestartPolicy}} {{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}} {{json .HostConfig.MemorySwappiness}} {{json .HostConfig.PidsLimit}} {{json .HostConfig.Dns}} {{.HostConfig.Runtime}}',
    // `.Dns` is not the Go field's name (DNS): the CLI falls back to the raw JSON, whose maps print sorted.
    expected: 'null bridge {"MaximumRetryCount":0,"Name":"no"} 67108864 private null null [] runc',
  },
  { args: ['-v', '/tmp:/mnt:ro', 'busybox'], format: '{{json .HostConfig.Binds}}', expected: '["/tmp:/mnt:ro"]' },
  { args: ['--network', 'none', 'busybox'], format: '{{.HostConfig.NetworkMode}}', expected: 'none' },
  { args: ['-p', '127.0.0.1:8080:80', 'busybox'], format: '{{json .HostConfig.PortBindings}}', expected: '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}' },
  { args: ['--restart', 'on-failure:3', 'busybox'], format: '{{json .HostConfig.RestartPolicy}}', expected: '{"Name":"on-failure","MaximumRetryCount":3}' },
  { args: ['--rm', 'busybox'], format: '{{.HostConfig.AutoRemove}}', expected: 'true' },
  { args: ['--cap-add', 'NET_ADMIN', '--cap-drop', 'MKNOD', 'busybox'], format: '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}', expected: '["CAP_NET_ADMIN"] ["CAP_MKNOD"]' }, // the CLI adds CAP_
  { args: ['--cgroupns', 'private', 'busybox'], format: '{{.HostConfig.CgroupnsMode}}', expected: 'private' },
  { args: ['--dns', '10.0.0.1', '--dns-search', 'example.test', '--dns-option', 'ndots:2', 'busybox'], format: '{{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}}', expected: '["10.0.0.1"] ["example.test"] ["ndots:2"]' },
  { args: ['--add-host', 'h:10.0.0.2', 'busybox'], format: '{{json .HostConfig.ExtraHosts}}', expected: '["h:10.0.0.2"]' },
  { args: ['--group-add', '10', 'busybox'], format: '{{json .HostConfig.GroupAdd}}', expected: '["10"]' },
  { args: ['--ipc', 'shareable', 'busybox'], format: '{{.HostConfig.IpcMode}}', expected: 'shareable' },
  { args: ['--pid', 'host', '--uts', 'host', 'busybox'], format: '{{.HostConfig.PidMode}} {{.HostConfig.UTSMode}}', expected: 'host host' },
  { args: ['--privileged', 'busybox'], format: '{{.HostConfig.Privileged}}', expected: 'true' },
  { args: ['-P', '--read-only', 'busybox'], format: '{{.HostConfig.PublishAllPorts}} {{.HostConfig.ReadonlyRootfs}}', expected: 'true true' },
  { args: ['--security-opt', 'no-new-privileges', 'busybox'], format: '{{json .HostConfig.SecurityOpt}}', expected: '["no-new-privileges"]' },
  { args: ['--tmpfs', '/run:size=1m', 'busybox'], format: '{{json .HostConfig.Tmpfs}}', expected: '{"/run":"size=1m"}' },
  { args: ['--shm-size', '1m', 'busybox'], format: '{{.HostConfig.ShmSize}}', expected: '1048576' },
  { args: ['--sysctl', 'net.ipv4.ip_forward=1', 'busybox'], format: '{{json .HostConfig.Sysctls}}', expected: '{"net.ipv4.ip_forward":"1"}' },
  { args: ['--runtime', 'runc', 'busybox'], format: '{{.HostConfig.Runtime}}', expected: 'runc' },
  { args: ['-c', '512', 'busybox'], format: '{{.HostConfig.CpuShares}}', expected: '512' },
  { args: ['-m', '64m', 'busybox'], format: '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', expected: '67108864 134217728' },
  { args: ['-m', '64m', '--memory-swap', '100m', 'busybox'], format: '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', expected: '67108864 104857600' },
  { args: ['--cpus', '1.5', 'busybox'], format: '{{.HostConfig.NanoCpus}}', expected: '1500000000' },
  { args: ['--cpu-period', '50000', '--cpu-quota', '25000', '--cpuset-cpus', '0', 'busybox'], format: '{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpusetCpus}}', expected: '50000 25000 0' },
  { args: ['--device', '/dev/null:/dev/mynull', 'busybox'], format: '{{json .HostConfig.Devices}}', expected: '[{"PathOnHost":"/dev/null","PathInContainer":"/dev/mynull","CgroupPermissions":"rwm"}]' },
  { args: ['--pids-limit', '100', 'busybox'], format: '{{json .HostConfig.PidsLimit}}', expected: '100' },
  { args: ['--ulimit', 'nofile=100:200', 'busybox'], format: '{{json .HostConfig.Ulimits}}', expected: '[{"Name":"nofile","Hard":200,"Soft":100}]' },
  { args: ['--init', 'busybox'], format: '{{json .HostConfig.Init}}', expected: 'true' },
  { args: ['--log-opt', 'max-size=1m', 'busybox'], format: '{{json .HostConfig.LogConfig.Config}}', expected: '{"max-size":"1m"}' },
  { args: ['--mount', 'type=volume,src=cfg-fields-vol,dst=/v', 'busybox'], format: '{{range .HostConfig.Mounts}}{{.Type}} {{.Source}} {{.Target}}{{end}}', expected: 'volume cfg-fields-vol /v' },
];

/** Flags berth does not apply: create must fail and name the flag, never drop it silently. */
const REFUSED: string[][] = [
  ['--oom-score-adj', '100'],
  ['--cgroup-parent', 'elsewhere'],
  ['--blkio-weight', '300'],
  ['--device-read-bps', '/dev/null:1mb'],
  ['--cpuset-mems', '0'],
  ['--cpu-rt-runtime', '100'],
  ['--memory-reservation', '32m'],
  ['--memory-swappiness', '10'],
  ['--oom-kill-disable'],
  ['--storage-opt', 'size=1G'],
  ['--annotation', 'a=b'],
  ['--device-cgroup-rule', 'c 1:3 r'],
  ['--volume-driver', 'elsewhere'],
];

describe('docker create: a field sent is a field kept', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'busybox', changes: ['CMD ["sh"]'] }, APP_IMAGE]);
  });
  after(async () => {
    if (daemon) {
      const left = (await run('ps', '-aq')).stdout.split('\n').filter(Boolean);
      if (left.length > 0) await run('rm', '-f', ...left);
      await run('volume', 'rm', '-f', 'cfg-fields-vol');
    }
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);

  let serial = 0;
  const check = async (row: Row): Promise<void> => {
    const name = `cfg-${serial++}`;
    const created = await run('create', '--pull', 'never', '--name', name, ...row.args);
    try {
      assert.equal(created.code, 0, `docker create ${row.args.join(' ')}: ${created.stderr}`);
      const shown = await run('inspect', '--format', row.format, name);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout.trim(), row.expected, `docker create ${row.args.join(' ')}: ${row.format}`);
    } finally {
      await run('rm', '-f', name);
    }
  };

  for (const row of CONFIG_ROWS) {
    test(`Config: create ${row.args.join(' ')} -> ${row.format}`, () => check(row));
  }
  for (const row of HOST_CONFIG_ROWS) {
    test(`HostConfig: create ${row.args.join(' ')} -> ${row.format}`, () => check(row));
  }

  test('--volumes-from keeps the source container\'s name', async () => {
    assert.equal((await run('create', '--pull', 'never', '--name', 'cfg-vf-src', '-v', '/vf', 'busybox')).code, 0);
    try {
      await check({ args: ['--volumes-from', 'cfg-vf-src', 'busybox'], format: '{{json .HostConfig.VolumesFrom}}', expected: '["cfg-vf-src"]' });
    } finally {
      await run('rm', '-f', '-v', 'cfg-vf-src');
    }
  });

  for (const flags of REFUSED) {
    test(`create ${flags.join(' ')} is refused by name, not dropped`, async () => {
      const r = await run('create', '--pull', 'never', ...flags, 'busybox');
      assert.equal(r.code, 1, r.stdout); // docker create's exit code for an error from the daemon
      assert.match(r.stderr, new RegExp(`not supported by berth yet: .*\\(${flags[0]}\\)`));
      assert.equal((await run('ps', '-aq')).stdout, '', 'no container is left');
    });
  }

  test('--entrypoint "" runs the command without the image\'s ENTRYPOINT; --entrypoint "sh -c" is one executable, as in Docker', async () => {
    const cleared = await run('run', '--rm', '--pull', 'never', '--entrypoint', '', 'app', 'echo', 'a', 'b');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout, 'a b\n');
    const replaced = await run('run', '--rm', '--pull', 'never', '--entrypoint', 'echo', 'app', 'own');
    assert.equal(replaced.stdout, 'own\n', 'a new entrypoint drops the image\'s CMD');
    const image = await run('run', '--rm', '--pull', 'never', 'app');
    assert.equal(image.stdout, 'from-image default-cmd\n');
    const spaced = await run('run', '--rm', '--pull', 'never', '--entrypoint', 'sh -c', 'busybox', 'true');
    assert.equal(spaced.code, 127);
    assert.match(spaced.stderr, /exec: "sh -c": executable file not found/);
  });

  test('commit of a container run with --entrypoint "" gives an image without ENTRYPOINT, its command as CMD', async () => {
    assert.equal((await run('run', '--pull', 'never', '--name', 'cfg-commit', '--entrypoint', '', 'app', 'echo', 'committed')).code, 0);
    try {
      assert.equal((await run('commit', 'cfg-commit', 'cfg-committed')).code, 0);
      const shown = await run('image', 'inspect', '--format', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'cfg-committed');
      assert.equal(shown.stdout.trim(), 'null ["echo","committed"]');
      assert.equal((await run('run', '--rm', '--pull', 'never', 'cfg-committed')).stdout, 'committed\n');
    } finally {
      await run('rm', '-f', 'cfg-commit');
      await run('rmi', 'cfg-committed');
    }
  });

  test('docker stop without -t uses --stop-timeout: a container ignoring SIGTERM is killed after 1s, not the default 10s', async () => {
    const started = await run('run', '-d', '--pull', 'never', '--name', 'cfg-stop', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done');
    assert.equal(started.code, 0, started.stderr);
    try {
      // Bounded, not measured: with the 10 s default the stop could not end within this deadline.
      const stopped = await Promise.race([run('stop', 'cfg-stop'), new Promise<undefined>((r) => setTimeout(() => r(undefined), 8000).unref())]);
      assert.ok(stopped, 'docker stop ended before the default timeout');
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal((await run('inspect', '--format', '{{.State.ExitCode}}', 'cfg-stop')).stdout.trim(), '137');
    } finally {
      await run('rm', '-f', 'cfg-stop');
    }
  });

  test('--health-cmd is what runs; --no-healthcheck turns the image\'s off', async () => {
    const started = await run('run', '-d', '--pull', 'never', '--name', 'cfg-health', '--health-cmd', 'echo probe-ran', '--health-interval', '100ms', 'busybox', 'sleep', '60');
    assert.equal(started.code, 0, started.stderr);
    const off = await run('run', '-d', '--pull', 'never', '--name', 'cfg-nohealth', '--no-healthcheck', '--entrypoint', 'sleep', 'app', '60');
    assert.equal(off.code, 0, off.stderr);
    try {
      let shown = '';
      for (let i = 0; i < 200 && !shown.startsWith('healthy'); i++) {
        shown = (await run('inspect', '--format', '{{.State.Health.Status}} {{range .State.Health.Log}}{{.Output}}{{end}}', 'cfg-health')).stdout;
      }
      assert.match(shown, /^healthy probe-ran\n/);
      assert.equal((await run('inspect', '--format', '{{json .State.Health}}', 'cfg-nohealth')).stdout.trim(), 'null');
    } finally {
      await run('rm', '-f', 'cfg-health', 'cfg-nohealth');
    }
  });

  test('ps Command is entrypoint + cmd as run, quoted as Docker quotes it', async () => {
    const names = ['cfg-ps-image', 'cfg-ps-spaces'];
    assert.equal((await run('create', '--pull', 'never', '--name', names[0]!, 'app')).code, 0);
    assert.equal((await run('create', '--pull', 'never', '--name', names[1]!, 'busybox', 'sh', '-c', 'echo a b')).code, 0);
    try {
      const ps = await run('ps', '-a', '--no-trunc', '--filter', 'name=cfg-ps-', '--format', '{{.Names}} {{.Command}}');
      assert.deepEqual(ps.stdout.split('\n').filter(Boolean).sort(), ['cfg-ps-image "echo from-image default-cmd"', 'cfg-ps-spaces "sh -c \'echo a b\'"']);
    } finally {
      await run('rm', '-f', ...names);
    }
  });
});
