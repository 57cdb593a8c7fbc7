/**
 * A private berthd for one benchmark: its own data root, exec root, socket, bridge and address
 * range under the benchmark's work directory; stopped by PID, its cgroup parent removed after.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD } from '../test/helpers/berthd.js';

const run = promisify(execFile);
const CGROUP_PARENT = 'berth-bench';
const CONTROLLERS = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd', 'unified'];

export interface BenchBerthd {
  host: string;
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBenchBerthd(work: string, network: { bridge: string; bip: string }): Promise<BenchBerthd> {
  const socket = join(work, 'berth.sock');
  const host = `unix://${socket}`;
  await writeFile(join(work, 'daemon.json'), '{}');
  const child = spawn(process.execPath, [BERTHD, '--data-root', join(work, 'berth'), '--exec-root', join(work, 'berth-run'), '-H', host, '--config-file', join(work, 'daemon.json'), '--cgroup-parent', CGROUP_PARENT, '--bridge', network.bridge, '--bip', network.bip], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    for (const controller of CONTROLLERS) await run('rmdir', [join('/sys/fs/cgroup', controller, CGROUP_PARENT)]).catch(() => undefined);
  };
  for (let i = 0; ; i++) {
    if (await run('docker', ['-H', host, 'version']).then(() => true, () => false)) break;
    if (child.exitCode !== null || i > 200) {
      await stop();
      throw new Error('berthd did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, socket, pid: child.pid!, stop };
}
