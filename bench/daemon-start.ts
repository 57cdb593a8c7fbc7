/**
 * Daemon start until `_ping` answers: spawn berthd on a fresh data root, exec root and socket
 * each run, poll GET /_ping every 2 ms, stop it, repeat.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTHD } from '../test/helpers/berthd.js';

export function pingOnce(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', headers: { Host: 'bench' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** One start: milliseconds from spawn to the first 200 from /_ping. */
export async function measureBerthdStart(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-start-'));
  const socket = join(root, 'b.sock');
  await writeFile(join(root, 'daemon.json'), '{}');
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [BERTHD, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '-H', `unix://${socket}`, '--config-file', join(root, 'daemon.json')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    for (;;) {
      if (await pingOnce(socket)) return Number(process.hrtime.bigint() - started) / 1e6;
      if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}`);
      if (Number(process.hrtime.bigint() - started) > 20e9) throw new Error('berthd did not answer within 20 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(root, { recursive: true, force: true });
  }
}
