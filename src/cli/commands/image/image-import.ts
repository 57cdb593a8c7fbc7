/** `berth import`: a root filesystem tar (file or stdin) as a one-layer image. */
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { displayJsonMessages } from '../../json-messages.js';
import { openInputFile } from '../../input-file.js';

const flags = {
  change: { type: 'strings', short: 'c', usage: 'Apply Dockerfile instruction to the created image' },
  message: { type: 'string', short: 'm', usage: 'Set commit message for imported image' },
  platform: { type: 'string', usage: 'Set platform if server is multi-platform capable' },
} as const;

export const imageImportCommand = defineCommand({
  name: 'import',
  usage: 'berth import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  flags,
  async run({ flags: options, positionals }, ctx) {
    const [source, repository] = positionals;
    if (!source || positionals.length > 2) throw new CliError(`"berth import" requires at least 1 and at most 2 arguments.\nSee 'berth import --help'.`, 1);
    if (/^https?:\/\//.test(source)) throw new CliError('importing from a URL is not supported yet: download the file and import it', 1);
    const body = source === '-' ? process.stdin : await openInputFile(source);
    const client = ctx.client();
    const response = await client.request('POST', '/images/create', {
      query: { fromSrc: '-', repo: repository, message: options.message || undefined, changes: options.change.length ? options.change : undefined, platform: options.platform || undefined },
      bodyStream: body,
      headers: { 'Content-Type': 'text/plain' },
    });
    await displayJsonMessages(client, response, ctx.stdout);
    return 0;
  },
});
