/**
 * Child process for the unpack benchmark: unpacks the layers with berth's snapshotter (as image
 * load and pull do: several layers at once), prints the time and its peak RSS.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { OverlaySnapshotter } from '../src/snapshots/index.js';
import { ChildProcessCommandRunner } from '../src/lib/command-runner.js';

const [root, ...layers] = process.argv.slice(2);
const snapshotter = await OverlaySnapshotter.open(join(root!, 'overlay'), new ChildProcessCommandRunner());
const started = process.hrtime.bigint();
await snapshotter.applyLayers(undefined, layers.map((layer) => ({ open: () => createReadStream(layer, { highWaterMark: 1024 * 1024 }) })));
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
