/** `berth image inspect`, `berth inspect` (any object) and `berth history`. */
import { defineCommand, type CliContext } from '../../command.js';
import { CliError, DaemonError } from '../../cli-errors.js';
import { GoTemplate } from '../../format/go-template.js';
import { formatItems } from '../../format/formatter.js';
import { humanDuration, humanSize } from '../../../lib/human-units.js';
import { shortImageId } from './image-list.js';

const inspectFlags = {
  format: { type: 'string', short: 'f', usage: "Format output using a custom template: 'json' or a Go template" },
  size: { type: 'bool', short: 's', usage: 'Display total file sizes' },
  type: { type: 'string', usage: 'Only inspect objects of the given type' },
} as const;

/** Prints what inspect found: an indented JSON array, or a template per object. */
function printInspected(ctx: CliContext, objects: unknown[], format: string): void {
  if (!format) {
    ctx.stdout.write(`${JSON.stringify(objects, null, 4)}\n`);
    return;
  }
  if (format === 'json') {
    ctx.stdout.write(`${JSON.stringify(objects)}\n`);
    return;
  }
  const template = new GoTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  for (const object of objects) ctx.stdout.write(`${template.execute(object)}\n`);
}

async function inspectEach(ctx: CliContext, names: string[], format: string, lookup: (name: string) => Promise<unknown>, missing: (name: string) => string): Promise<number> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      found.push(await lookup(name));
    } catch (err) {
      if (err instanceof DaemonError && err.status === 404) errors.push(missing(name));
      else throw err;
    }
  }
  printInspected(ctx, found, format);
  if (errors.length) throw new CliError(errors.join('\n'), 1);
  return 0;
}

export const imageInspectCommand = defineCommand({
  name: 'inspect',
  usage: 'berth image inspect [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  flags: inspectFlags,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth image inspect" requires at least 1 argument.\nSee 'berth image inspect --help'.`, 1);
    return inspectEach(ctx, positionals, options.format, (name) => ctx.client().json('GET', `/images/${name}/json`), (name) => `Error: No such image: ${name}`);
  },
});

/** Object kinds `berth inspect` probes, in docker's order. */
const PROBES: { type: string; path: (name: string) => string }[] = [
  { type: 'container', path: (n) => `/containers/${n}/json` },
  { type: 'image', path: (n) => `/images/${n}/json` },
  { type: 'network', path: (n) => `/networks/${n}` },
  { type: 'volume', path: (n) => `/volumes/${n}` },
];

export const inspectCommand = defineCommand({
  name: 'inspect',
  usage: 'berth inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on berth objects',
  flags: inspectFlags,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth inspect" requires at least 1 argument.\nSee 'berth inspect --help'.`, 1);
    const probes = options.type ? PROBES.filter((p) => p.type === options.type) : PROBES;
    if (probes.length === 0) throw new CliError(`"${options.type}" is not a valid value for --type`, 1);
    return inspectEach(
      ctx,
      positionals,
      options.format,
      async (name) => {
        for (const probe of probes) {
          try {
            return await ctx.client().json('GET', probe.path(name));
          } catch (err) {
            if (!(err instanceof DaemonError) || (err.status !== 404 && !/not supported/.test(err.message))) throw err;
          }
        }
        throw new DaemonError(404, `No such object: ${name}`);
      },
      (name) => `Error: No such object: ${name}`,
    );
  },
});

interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** docker's Ellipsis: cut to `max` display characters, the last one an ellipsis. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

export const historyCommand = defineCommand({
  name: 'history',
  usage: 'berth history [OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  flags: {
    format: { type: 'string', usage: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
    human: { type: 'bool', short: 'H', usage: 'Print sizes and dates in human readable format', default: true },
    'no-trunc': { type: 'bool', usage: "Don't truncate output" },
    quiet: { type: 'bool', short: 'q', usage: 'Only show image IDs' },
    platform: { type: 'string', usage: 'Show history for the given platform' },
  } as const,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth history" requires exactly 1 argument.\nSee 'berth history --help'.`, 1);
    const items = await ctx.client().json<HistoryItem[]>('GET', `/images/${positionals[0]}/history`);
    const noTrunc = options['no-trunc'];
    const rows = items.map((item) => ({
      ID: item.Id === '<missing>' ? item.Id : shortImageId(item.Id, noTrunc),
      CreatedSince: options.human ? `${humanDuration(ctx.clock.nowMs() - item.Created * 1000)} ago` : new Date(item.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      CreatedAt: new Date(item.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      CreatedBy: noTrunc ? item.CreatedBy : ellipsis(item.CreatedBy.replace(/\t/g, ' '), 45),
      Size: options.human ? humanSize(item.Size) : String(item.Size),
      Comment: item.Comment,
      Tags: item.Tags,
    }));
    if (options.quiet) {
      ctx.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
      return 0;
    }
    ctx.stdout.write(formatItems(rows, {
      format: options.format,
      defaultTable: '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
    }));
    return 0;
  },
});
