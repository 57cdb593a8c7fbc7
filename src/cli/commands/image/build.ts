/** `berth build` (and `berth image build`, `berth builder prune`): the classic builder's client side. */
import { Readable } from 'node:stream';
import { writeFile, rename } from 'node:fs/promises';
import { defineCommand, type CliContext } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { displayJsonMessages } from '../../json-messages.js';
import { packContext } from '../../build-context.js';
import { humanSize } from '../../../lib/human-units.js';
import { deletedSection, reclaimedLine } from '../../prune-report.js';

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** KEY=VALUE, or KEY alone to take the value from berth's environment (dropped when unset), as docker. */
function buildArgs(values: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === -1) {
      if (process.env[value] !== undefined) args[value] = process.env[value]!;
    } else args[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return args;
}

function labels(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((v) => (v.includes('=') ? [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] : [v, ''])));
}

export const buildCommand = defineCommand({
  name: 'build',
  usage: 'berth build [OPTIONS] PATH | URL | -',
  summary: 'Build an image from a Dockerfile',
  flags: {
    tag: { type: 'strings', short: 't', usage: 'Name and optionally a tag in the "name:tag" format' },
    file: { type: 'string', short: 'f', usage: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    'build-arg': { type: 'strings', usage: 'Set build-time variables' },
    target: { type: 'string', usage: 'Set the target build stage to build.' },
    'no-cache': { type: 'bool', usage: 'Do not use cache when building the image' },
    pull: { type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
    quiet: { type: 'bool', short: 'q', usage: 'Suppress the build output and print image ID on success' },
    iidfile: { type: 'string', usage: 'Write the image ID to the file' },
    label: { type: 'strings', usage: 'Set metadata for an image' },
    network: { type: 'string', usage: 'Set the networking mode for the RUN instructions during build' },
    platform: { type: 'string', usage: 'Set platform if server is multi-platform capable' },
    rm: { type: 'bool', usage: 'Remove intermediate containers after a successful build (default true)' },
    'force-rm': { type: 'bool', usage: 'Always remove intermediate containers' },
    'add-host': { type: 'strings', usage: 'Add a custom host-to-IP mapping ("host:ip")' },
    'shm-size': { type: 'string', usage: 'Size of "/dev/shm"' },
    'cache-from': { type: 'strings', usage: 'Images to consider as cache sources' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth build" requires exactly 1 argument.\nSee 'berth build --help'.`, 1);
    const source = positionals[0]!;
    if (/^(https?|git):\/\/|^git@/.test(source)) throw new CliError('building from a URL or git repository is not supported yet: clone it and build the directory', 1);
    let body: AsyncIterable<Buffer>;
    let dockerfile = flags.file ?? '';
    if (source === '-') {
      if (flags.file === '-') throw new CliError('invalid argument: can\'t use stdin for both build context and dockerfile', 1);
      body = ctx.stdin as AsyncIterable<Buffer>;
    } else {
      const fromStdin = flags.file === '-' ? await readStream(ctx.stdin) : undefined;
      const packed = await packContext(source, flags.file === '-' ? undefined : flags.file, fromStdin);
      dockerfile = packed.dockerfile;
      body = packed.tar;
    }
    let sent = 0;
    const counted = (async function* () {
      for await (const chunk of body) {
        sent += chunk.length;
        yield chunk;
      }
    })();
    const query: Record<string, string | string[] | undefined> = {
      t: flags.tag ?? [],
      dockerfile: dockerfile || undefined,
      buildargs: JSON.stringify(buildArgs(flags['build-arg'] ?? [])),
      labels: JSON.stringify(labels(flags.label ?? [])),
      target: flags.target,
      nocache: flags['no-cache'] ? '1' : undefined,
      pull: flags.pull ? '1' : undefined,
      q: flags.quiet ? '1' : undefined,
      rm: flags.rm === false ? '0' : '1',
      forcerm: flags['force-rm'] ? '1' : undefined,
      networkmode: flags.network,
      platform: flags.platform,
      extrahosts: flags['add-host']?.join(','),
      shmsize: flags['shm-size'],
      cachefrom: flags['cache-from']?.length ? JSON.stringify(flags['cache-from']) : undefined,
    };
    const response = await ctx.client().request('POST', '/build', { query, bodyStream: Readable.from(counted), headers: { 'Content-Type': 'application/x-tar' } });
    if (!flags.quiet) ctx.stdout.write(`Sending build context to berthd  ${humanSize(sent)}\n`);
    const quietOut = { write: () => true } as unknown as CliContext['stdout'];
    const aux = await displayJsonMessages(ctx.client(), response, flags.quiet ? quietOut : ctx.stdout);
    const id = (aux.find((a) => typeof a === 'object' && a !== null && 'ID' in a) as { ID?: string } | undefined)?.ID;
    if (flags.quiet && id) ctx.stdout.write(`${id}\n`);
    if (flags.iidfile && id) {
      // Written beside the target and renamed, so a reader never sees half an ID.
      await writeFile(`${flags.iidfile}.tmp`, id);
      await rename(`${flags.iidfile}.tmp`, flags.iidfile);
    }
    return 0;
  },
});

export const builderPruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth builder prune [OPTIONS]',
  summary: 'Remove build cache',
  flags: {
    all: { type: 'bool', short: 'a', usage: 'Remove all unused build cache, not just dangling ones' },
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
  } as const,
  async run({ flags }, ctx) {
    if (!flags.force) throw new CliError('berth builder prune removes the build cache: add -f to confirm (berth does not prompt)', 1);
    const result = await ctx.client().json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query: { all: flags.all ? '1' : undefined } });
    const deleted = result.CachesDeleted ?? [];
    ctx.stdout.write(deletedSection('Deleted build cache objects', deleted) + reclaimedLine(result.SpaceReclaimed));
    return 0;
  },
});
