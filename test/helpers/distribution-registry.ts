/** Debian's docker-registry (distribution 2.8) on 127.0.0.1 for pull and push tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './ports.js';

export { freeLoopbackPort };

export const distributionAvailable = spawnSync('which', ['docker-registry'], { stdio: 'ignore' }).status === 0;


export interface DistributionRegistry {
  host: string;
  port: number;
  root: string;
  stop(): Promise<void>;
}

/** `auth` is the YAML of distribution's auth section (htpasswd or token), already indented. */
export async function startDistribution(options: { port?: number; auth?: string } = {}): Promise<DistributionRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'berth-distribution-'));
  const port = options.port ?? (await freeLoopbackPort());
  const config = join(root, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${options.auth ? `auth:\n${options.auth}\n` : ''}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (c: Buffer) => (errors += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const answered = await fetch(`http://127.0.0.1:${port}/v2/`).then(() => true, () => false);
    if (answered) break;
    if (child.exitCode !== null || i > 300) {
      child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${errors}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    root,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(root, { recursive: true, force: true });
    },
  };
}
