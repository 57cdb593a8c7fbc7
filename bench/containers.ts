/**
 * Container operations on one berthd (the docker CLI as client, so the Node CLI's start is not in
 * the figures): run -d, exec, 50 parallel run -d, the first HTTP 200 through a published port,
 * published-port vs direct throughput (ab), logs of 1,000,000 lines, and memory (berthd and each
 * conmon, RSS) idle and with 50 containers. Peers are measured by run-rm; these are berth's own.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBenchBerthd } from './bench-berthd.js';
import { makeBusyboxRootfs } from '../test/helpers/images.js';
import { summarize, time } from './stats.js';

const run = promisify(execFile);

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const line = (name: string, xs: number[], target?: string) => {
  const s = summarize(xs);
  return `${name.padEnd(34)} median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}, n=${s.n})${target ? `   target ${target}` : ''}`;
};

export async function benchContainers(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-ctr-'));
  const rootfs = makeBusyboxRootfs(join(work, 'busybox.tar'));
  const berthd = await startBenchBerthd(work, { bridge: 'bbench0', bip: '10.251.0.1/16' });
  const host = berthd.host;
  const docker = (...args: string[]) => run('docker', ['-H', host, ...args], { maxBuffer: 1 << 30 });
  const out: string[] = [];
  try {
    await docker('version'); // one request served: the API's code is loaded
    const fresh = await rssKiB(berthd.pid!);
    await docker('import', '-c', 'CMD ["sh"]', rootfs, 'busybox');
    await docker('run', '--rm', 'busybox', 'true'); // warm-up
    const warm = await rssKiB(berthd.pid!);
    out.push(`berthd RSS idle: ${(fresh / 1024).toFixed(0)} MB after start, ${(warm / 1024).toFixed(0)} MB after an import and a run   target under 60 MB`);

    const runD: number[] = [];
    for (let i = 0; i < runs; i++) {
      runD.push(await time(() => docker('run', '-d', '--name', `d${i}`, 'busybox', 'sleep', '600')));
    }
    out.push(line('run -d busybox sleep', runD, 'under 120 ms'));
    const execs: number[] = [];
    for (let i = 0; i < runs; i++) execs.push(await time(() => docker('exec', 'd0', 'true')));
    out.push(line('exec true', execs, 'under 50 ms'));
    await docker('rm', '-f', ...runD.map((_, i) => `d${i}`));

    const parallel = await time(() => Promise.all(Array.from({ length: 50 }, (_, i) => docker('run', '-d', '--name', `p${i}`, 'busybox', 'sleep', '600'))));
    out.push(`50 parallel run -d                 ${(parallel / 1000).toFixed(2)} s   target under 3 s`);
    const conmons = (await run('pgrep', ['-P', '1', '-x', 'conmon'])).stdout.trim().split('\n').map(Number);
    const ours = [];
    for (const pid of conmons) if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(work)) ours.push(pid);
    const monitorsKiB = (await Promise.all(ours.map(rssKiB))).reduce((a, b) => a + b, 0);
    const daemonKiB = await rssKiB(berthd.pid!);
    out.push(`memory with 50 containers          berthd ${(daemonKiB / 1024).toFixed(0)} MB + ${ours.length} conmon ${(monitorsKiB / 1024).toFixed(0)} MB (${(monitorsKiB / Math.max(ours.length, 1) / 1024).toFixed(1)} MB each) = ${((daemonKiB + monitorsKiB) / 1024).toFixed(0)} MB   target under 200 MB`);
    await docker('rm', '-f', ...Array.from({ length: 50 }, (_, i) => `p${i}`));

    // The first HTTP 200 through a published port, from `docker run` on.
    const port = 18000 + Math.floor(Math.random() * 1000);
    const web = ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && head -c 10485760 /dev/zero > /www/big && exec httpd -f -p 80 -h /www'];
    const first200 = await time(async () => {
      await docker('run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', ...web);
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status === 200, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    out.push(`run -d -p until the first HTTP 200   ${first200.toFixed(0)} ms`);
    const address = (await docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web')).stdout.trim();
    const ab = async (url: string, requests: number) => {
      const text = (await run('ab', ['-q', '-k', '-n', String(requests), '-c', '16', url], { maxBuffer: 1 << 24 })).stdout;
      return Number(/Requests per second:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
    };
    try {
      const published = await ab(`http://127.0.0.1:${port}/`, 20000);
      const direct = await ab(`http://${address}/`, 20000);
      out.push(`small responses, ab -k -c16: published 127.0.0.1 ${published.toFixed(0)} req/s, direct ${direct.toFixed(0)} req/s = ${((published / direct) * 100).toFixed(0)}%   target at least 95%`);
      const publishedBig = await ab(`http://127.0.0.1:${port}/big`, 400);
      const directBig = await ab(`http://${address}/big`, 400);
      out.push(`10 MB responses, ab -k -c16: published 127.0.0.1 ${publishedBig.toFixed(1)} req/s, direct ${directBig.toFixed(1)} req/s = ${((publishedBig / directBig) * 100).toFixed(0)}%`);
    } catch (err) {
      out.push(`throughput not measured: ${(err as Error).message.split('\n')[0]} (ab is in Debian's apache2-utils)`);
    }
    await docker('rm', '-f', 'web');

    // 1,000,000 lines into the log, then read them back.
    await docker('run', '--name', 'chatty', 'busybox', 'sh', '-c', 'seq 1 1000000');
    const logs: number[] = [];
    for (let i = 0; i < Math.min(runs, 5); i++) {
      logs.push(await time(async () => {
        const r = await docker('logs', 'chatty');
        if (!r.stdout.endsWith('1000000\n')) throw new Error('logs ended early');
      }));
    }
    out.push(line('logs of 1,000,000 lines', logs, 'under 1.5 s'));
    await docker('rm', '-f', 'chatty');
    return out.join('\n');
  } finally {
    await docker('rm', '-f', ...(await docker('ps', '-aq').then((r) => r.stdout.trim().split('\n').filter(Boolean), () => []))).catch(() => undefined);
    await berthd.stop();
    await rm(work, { recursive: true, force: true });
  }
}
