/**
 * `--format` as docker reads it: "" or "table" for the command's default table, "json" for one
 * JSON object per line, "table TEMPLATE" for a table with headers, anything else a Go template
 * printed once per item.
 */
import { GoTemplate } from './go-template.js';
import { alignColumns, TABLE_LAYOUT } from './tabwriter.js';

export interface FormatOptions {
  /** What the user passed to --format ("" when absent). */
  format: string;
  /** The command's default table template, without the "table " prefix. */
  defaultTable: string;
  /** Column headers by field name, e.g. { ID: 'CONTAINER ID' }. */
  headers: Record<string, string>;
  /** -q: print only this template per item. */
  quietTemplate?: string;
  quiet?: boolean;
}

/** Renders `items` for the terminal; the result ends with a newline unless there is nothing to print. */
export function formatItems(items: readonly unknown[], options: FormatOptions): string {
  const format = options.format.trim();
  if (options.quiet && options.quietTemplate && (format === '' || format === 'table')) {
    return renderLines(new GoTemplate(options.quietTemplate), items);
  }
  if (format === 'json') return items.map((item) => JSON.stringify(item) + '\n').join('');
  if (format === '' || format.startsWith('table')) {
    const body = format === '' || format === 'table' ? options.defaultTable : format.slice('table'.length).trimStart();
    const template = new GoTemplate(unescapeTabs(body));
    const header = template.execute(headerContext(options.headers));
    const rows = items.map((item) => template.execute(item));
    return alignColumns([header, ...rows].join('\n'), TABLE_LAYOUT) + '\n';
  }
  return renderLines(new GoTemplate(unescapeTabs(format)), items);
}

/** A single value (inspect, version, info) through a user template. */
export function formatOne(value: unknown, format: string): string {
  if (format.trim() === 'json') return JSON.stringify(value) + '\n';
  return new GoTemplate(unescapeTabs(format)).execute(value) + '\n';
}

function renderLines(template: GoTemplate, items: readonly unknown[]): string {
  return items.map((item) => template.execute(item) + '\n').join('');
}

// docker users type `\t` literally in shell strings and expect a tab.
function unescapeTabs(text: string): string {
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function headerContext(headers: Record<string, string>): unknown {
  return new Proxy(
    {},
    {
      get: (_target, key) => (typeof key === 'string' ? (headers[key] ?? toHeader(key)) : undefined),
      has: () => true,
    },
  );
}

function toHeader(field: string): string {
  return field.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}
