/** `berth events`: the engine's event stream, printed as docker prints it. */
import { defineCommand } from '../command.js';
import { GoTemplate } from '../format/go-template.js';
import { formatRfc3339NanoFixed, toApiTimestamp } from '../go-time.js';
import { CliError } from '../cli-errors.js';
import { filtersToJson } from '../filter-flags.js';

interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number | bigint;
}

const flags = {
  filter: { type: 'strings', short: 'f', usage: 'Filter output based on conditions provided' },
  format: { type: 'string', usage: 'Format output using a custom template: \'json\' or a Go template' },
  since: { type: 'string', usage: 'Show all events created since timestamp' },
  until: { type: 'string', usage: 'Stream events until this timestamp' },
} as const;

/** Parses one JSON line keeping timeNano exact (it does not fit a JavaScript number). */
function parseEvent(line: string): EventMessage {
  const event = JSON.parse(line) as EventMessage;
  const nano = /"timeNano":\s*(\d+)/.exec(line)?.[1];
  if (nano) event.timeNano = BigInt(nano);
  return event;
}

function prettyEvent(event: EventMessage): string {
  const nano = typeof event.timeNano === 'bigint' ? event.timeNano : BigInt(event.time ?? 0) * 1_000_000_000n;
  const attributes = Object.entries(event.Actor.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  const suffix = attributes.length ? ` (${attributes.join(', ')})` : '';
  return `${formatRfc3339NanoFixed(nano)} ${event.Type} ${event.Action} ${event.Actor.ID}${suffix}\n`;
}

export const eventsCommand = defineCommand({
  name: 'events',
  usage: 'berth events [OPTIONS]',
  summary: 'Get real time events from the server',
  flags,
  async run({ flags: options }, ctx) {
    const now = ctx.clock.nowMs();
    let since: string | undefined;
    let until: string | undefined;
    try {
      since = options.since ? toApiTimestamp(options.since, now) : undefined;
      until = options.until ? toApiTimestamp(options.until, now) : undefined;
    } catch (err) {
      throw new CliError((err as Error).message, 125);
    }
    const client = ctx.client();
    const response = await client.request('GET', '/events', { query: { since, until, filters: filtersToJson(options.filter) } });
    const template = options.format && options.format !== 'json' ? new GoTemplate(options.format) : undefined;
    for await (const line of client.lines(response)) {
      if (options.format === 'json') ctx.stdout.write(line + '\n');
      else if (template) ctx.stdout.write(template.execute(JSON.parse(line)) + '\n');
      else ctx.stdout.write(prettyEvent(parseEvent(line)));
    }
    return 0;
  },
});
