/** `berth load` and `berth save`: image archives to and from the daemon. */
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { displayJsonMessages } from '../../json-messages.js';
import { openInputFile } from '../../input-file.js';

export const imageLoadCommand = defineCommand({
  name: 'load',
  usage: 'berth load [OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  flags: {
    input: { type: 'string', short: 'i', usage: 'Read from tar archive file, instead of STDIN' },
    quiet: { type: 'bool', short: 'q', usage: 'Suppress the load output' },
    platform: { type: 'strings', usage: 'Load only the given platform(s)' },
  } as const,
  async run({ flags: options }, ctx) {
    let body: NodeJS.ReadableStream;
    if (options.input) {
      body = await openInputFile(options.input);
    } else {
      if (process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty', 1);
      body = process.stdin;
    }
    const client = ctx.client();
    const response = await client.request('POST', '/images/load', { query: { quiet: '1' }, bodyStream: body });
    await displayJsonMessages(client, response, ctx.stdout);
    return 0;
  },
});

export const imageSaveCommand = defineCommand({
  name: 'save',
  usage: 'berth save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  flags: {
    output: { type: 'string', short: 'o', usage: 'Write to a file, instead of STDOUT' },
    platform: { type: 'strings', usage: 'Save only the given platform(s)' },
  } as const,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth save" requires at least 1 argument.\nSee 'berth save --help'.`, 1);
    if (!options.output && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const response = await ctx.client().request('GET', '/images/get', { query: { names: positionals } });
    if (!options.output) {
      await pipeline(response.body, ctx.stdout);
      return 0;
    }
    // Written beside the target and renamed, so a failed save never leaves half an archive.
    const temp = join(dirname(options.output), `.${basename(options.output)}.${process.pid}.tmp`);
    try {
      await pipeline(response.body, createWriteStream(temp, { mode: 0o644 }));
      await rename(temp, options.output);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new CliError(`failed to save image: ${(err as Error).message}`, 1);
    }
    return 0;
  },
});
