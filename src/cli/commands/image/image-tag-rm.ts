/** `berth tag` and `berth rmi`. */
import { defineCommand } from '../../command.js';
import { CliError, DaemonError } from '../../cli-errors.js';

export const imageTagCommand = defineCommand({
  name: 'tag',
  usage: 'berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  flags: {} as const,
  async run({ positionals }, ctx) {
    if (positionals.length !== 2) throw new CliError(`"berth tag" requires exactly 2 arguments.\nSee 'berth tag --help'.`, 1);
    const [source, target] = positionals as [string, string];
    // Split the tag off the last path component only (a registry port has a colon too).
    const slash = target.lastIndexOf('/');
    const colon = target.lastIndexOf(':');
    const at = target.indexOf('@');
    if (at !== -1) throw new CliError('refusing to create a tag with a digest reference', 1);
    const [repo, tag] = colon > slash ? [target.slice(0, colon), target.slice(colon + 1)] : [target, ''];
    await ctx.client().request('POST', `/images/${source}/tag`, { query: { repo, tag: tag || undefined } });
    return 0;
  },
});

export const imageRemoveCommand = defineCommand({
  name: 'rmi',
  aliases: ['rm', 'remove'],
  usage: 'berth rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  flags: {
    force: { type: 'bool', short: 'f', usage: 'Force removal of the image' },
    'no-prune': { type: 'bool', usage: 'Do not delete untagged parents' },
  } as const,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth rmi" requires at least 1 argument.\nSee 'berth rmi --help'.`, 1);
    const client = ctx.client();
    const errors: string[] = [];
    for (const name of positionals) {
      try {
        const items = await client.json<({ Untagged: string } | { Deleted: string })[]>('DELETE', `/images/${name}`, {
          query: { force: options.force ? '1' : undefined, noprune: options['no-prune'] ? '1' : undefined },
        });
        for (const item of items) ctx.stdout.write('Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${item.Deleted}\n`);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        errors.push(`Error response from daemon: ${err.message}`);
      }
    }
    if (errors.length) throw new CliError(errors.join('\n'), 1);
    return 0;
  },
});
