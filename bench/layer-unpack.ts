/**
 * Unpacking a generated 200 MB, 20,000-file, 5-layer gzip image: berth's layer applier beside
 * GNU `tar -xzf` of the same layers, interleaved, each run into fresh directories.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLayerFixture } from './layer-fixture.js';
import { summarize } from './stats.js';

const CHILD = fileURLToPath(new URL('./unpack-child.ts', import.meta.url));

export async function benchLayerUnpack(runs: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-unpack-'));
  try {
    const fixture = await makeLayerFixture(join(work, 'layers'));
    const berthMs: number[] = [];
    const berthRss: number[] = [];
    const tarMs: number[] = [];
    const tarRss: number[] = [];
    const runBerth = (run: number) => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, join(work, `berth-${run}`), ...fixture.layers], { encoding: 'utf8' });
      const result = JSON.parse(out) as { ms: number; maxRssKb: number };
      berthMs.push(result.ms);
      berthRss.push(result.maxRssKb);
    };
    const runTar = (run: number) => {
      const target = join(work, `tar-${run}`);
      const script = fixture.layers.map((layer, i) => `mkdir -p ${target}/${i} && tar -xzf ${layer} -C ${target}/${i}`).join(' && ');
      const started = process.hrtime.bigint();
      const timed = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', script], { encoding: 'utf8' });
      tarMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      tarRss.push(Number(timed.stderr.trim().split('\n').pop()));
    };
    // Fresh target directories every run and no deleting until the end: on this ext4 (no
    // journal) creating files right after deleting many is several times slower. The order
    // alternates so neither side always runs second.
    for (let run = 0; run < runs; run++) {
      if (run % 2 === 0) {
        runBerth(run);
        runTar(run);
      } else {
        runTar(run);
        runBerth(run);
      }
    }
    const b = summarize(berthMs);
    const t = summarize(tarMs);
    const ratio = b.median / t.median;
    return [
      `fixture: ${fixture.layers.length} gzip layers, ${fixture.files} files, ${(fixture.bytes / 1e6).toFixed(0)} MB of content`,
      `berth (snapshotter, 3 layers at a time) median ${b.median.toFixed(0)} ms (min ${b.min.toFixed(0)}, max ${b.max.toFixed(0)}), peak RSS ${(Math.max(...berthRss) / 1024).toFixed(0)} MiB (node; GNU tar child not counted)`,
      `GNU tar -xzf       median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)}), peak RSS ${(Math.max(...tarRss) / 1024).toFixed(0)} MiB (sh/tar; gzip child not counted)`,
      `ratio berth/tar    ${ratio.toFixed(2)}  (target: at most 1.20) ${ratio <= 1.2 ? 'within' : 'OVER'}`,
    ].join('\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
