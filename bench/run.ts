/**
 * bench/run [SCENARIO...]: each scenario against berth (and, as bench/ grows, Docker, Podman and
 * the raw-runtime floor), printing min/median/max. Scenarios whose capability berth does not have
 * yet are reported as such.
 */
import { measureBerthdStart } from './daemon-start.js';
import { benchLayerUnpack } from './layer-unpack.js';
import { benchRegistry } from './registry.js';
import { benchPull } from './pull.js';
import { benchRunRm } from './run-rm.js';
import { benchContainers } from './containers.js';
import { benchBuild } from './build.js';
import { benchEngines } from './engines.js';
import { benchThroughput } from './throughput.js';
import { machineReport } from './machine.js';
import { writeFile } from 'node:fs/promises';
import { formatMs, summarize } from './stats.js';

interface Scenario {
  name: string;
  describe: string;
  run?: (runs: number) => Promise<string>;
  /** Why it cannot be measured yet. */
  pending?: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'daemon-start',
    describe: 'daemon start until /_ping answers (target: 300 ms; dockerd took 685 ms here)',
    run: async (runs) => {
      const samples: number[] = [];
      await measureBerthdStart(); // warm the page cache so the first run is not an outlier
      for (let i = 0; i < runs; i++) samples.push(await measureBerthdStart());
      const summary = summarize(samples);
      return `berth   ${formatMs(summary)}   ${summary.median <= 300 ? 'within' : 'OVER'} the 300 ms target`;
    },
  },
  {
    name: 'layer-unpack',
    describe: 'unpack a generated 200 MB, 20,000-file, 5-layer gzip image; berth vs GNU tar -xzf (target: at most 1.2x)',
    run: (runs) => benchLayerUnpack(Math.min(runs, 5)),
  },
  {
    name: 'registry',
    describe: 'berth-registry vs distribution 2.8: skopeo push, pull and 8 concurrent pulls of a 200 MB image (target: at least as fast)',
    run: (runs) => benchRegistry(Math.min(runs, 3)),
  },
  { name: 'run-rm', describe: 'run --rm IMG true on berth, Docker and Podman (berth target: within 1.6x the runc floor, about 150 ms)', run: (runs) => benchRunRm(runs) },
  {
    name: 'containers',
    describe: 'berth only, docker CLI as client: run -d, exec, 50 parallel run -d, memory, first HTTP 200 through -p, published vs direct throughput, logs of 1,000,000 lines',
    run: (runs) => benchContainers(Math.min(runs, 15)),
  },
  {
    name: 'engines',
    describe: 'berth, Docker and Podman side by side (--network none): create, start, exec, stop, rm -f, run -d, 50 in parallel, logs of 1,000,000 lines, memory (RSS and PSS of every engine process) idle and with 50 containers, daemon start',
    run: (runs) => benchEngines(Math.min(runs, 10)),
  },
  {
    name: 'throughput',
    describe: 'requests per second through a published port on 127.0.0.1 and directly at the container, small and 10 MB responses (wrk): berth and Docker (docker-proxy) (target: published at least 95% of direct)',
    run: () => benchThroughput(),
  },
  {
    name: 'pull-cold',
    describe: 'cold pull of a generated 200 MB, 5-layer, 20,000-file image from a local registry, beside the transfer and unpack floors (target: within 1.3x the larger floor)',
    run: (runs) => benchPull(Math.min(runs, 3)),
  },
  {
    name: 'build',
    describe: 'build of a small Dockerfile, cold (--no-cache) and cached: berth, Docker\'s classic builder and Podman (targets: cold under 650 ms, cached under 100 ms)',
    run: (runs) => benchBuild(Math.min(runs, 10)),
  },
];

async function main(argv: string[]): Promise<number> {
  const runs = Number(process.env['BENCH_RUNS'] ?? 15);
  const write = argv.includes('--write');
  const names = argv.filter((a) => a !== '--write');
  const wanted = names.length > 0 ? names : SCENARIOS.map((s) => s.name);
  const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench/run: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const report: string[] = [];
  const emit = (text: string) => {
    process.stdout.write(text);
    report.push(text);
  };
  emit(`# berth bench, ${new Date().toISOString()}, ${runs} runs per scenario\n`);
  for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) {
    emit(`\n## ${scenario.name}: ${scenario.describe}\n`);
    if (!scenario.run) {
      emit(`not measured: ${scenario.pending}\n`);
      continue;
    }
    const started = Date.now();
    const result = await scenario.run(runs).catch((err: Error) => `failed: ${err.message.split('\n')[0]}`);
    emit('```\n' + `${result}\n` + '```\n' + `(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  if (write) {
    const text = `${report.join('')}\n## Machine and versions\n\n${await machineReport()}\n`;
    await writeFile(new URL('RESULTS.md', import.meta.url), text);
    process.stdout.write('\nwrote bench/RESULTS.md\n');
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
