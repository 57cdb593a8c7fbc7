/** `berth diff`, `berth top` and `berth commit`. */
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { alignColumns, KEY_VALUE_LAYOUT } from '../../format/tabwriter.js';

export const diffCommand = defineCommand({
  name: 'diff',
  usage: 'berth diff CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  flags: {},
  async run({ positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth diff" requires exactly 1 argument.\nSee 'berth diff --help'.`, 1);
    const changes = await ctx.client().json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${encodeURIComponent(positionals[0]!)}/changes`);
    for (const c of changes ?? []) ctx.stdout.write(`${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`);
    return 0;
  },
});

export const topCommand = defineCommand({
  name: 'top',
  usage: 'berth top CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  flags: {},
  interspersed: false,
  async run({ positionals }, ctx) {
    if (positionals.length < 1) throw new CliError(`"berth top" requires at least 1 argument.\nSee 'berth top --help'.`, 1);
    const [container, ...psArgs] = positionals;
    const top = await ctx.client().json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(container!)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
    const rows = [top.Titles, ...top.Processes].map((r) => r.join('\t')).join('\n');
    ctx.stdout.write(`${alignColumns(rows, KEY_VALUE_LAYOUT)}\n`);
    return 0;
  },
});

export const commitCommand = defineCommand({
  name: 'commit',
  usage: 'berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  flags: {
    author: { type: 'string', short: 'a', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    change: { type: 'strings', short: 'c', usage: 'Apply Dockerfile instruction to the created image' },
    message: { type: 'string', short: 'm', usage: 'Commit message' },
    pause: { type: 'bool', short: 'p', usage: 'Pause container during commit', default: true },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length < 1 || positionals.length > 2) throw new CliError(`"berth commit" requires at least 1 and at most 2 arguments.\nSee 'berth commit --help'.`, 1);
    const [container, reference] = positionals;
    let repo: string | undefined;
    let tag: string | undefined;
    if (reference) {
      const colon = reference.lastIndexOf(':');
      if (colon > reference.lastIndexOf('/')) [repo, tag] = [reference.slice(0, colon), reference.slice(colon + 1)];
      else repo = reference;
    }
    const result = await ctx.client().json<{ Id: string }>('POST', '/commit', {
      query: { container, repo, tag, author: flags.author || undefined, comment: flags.message || undefined, changes: flags.change.length ? flags.change : undefined, pause: flags.pause ? '1' : '0' },
    });
    ctx.stdout.write(`${result.Id}\n`);
    return 0;
  },
});
