/**
 * Aligns tab-separated cells into columns as Go's text/tabwriter does with flags 0: a cell is
 * text followed by a tab; the text after a line's last tab is not aligned. A column is as wide as
 * its widest cell in the block of adjacent lines that have it, plus padding, and at least minWidth.
 */
export interface TabwriterOptions {
  minWidth: number;
  padding: number;
}

/** docker's tables (`docker ps`, `--format "table ..."`): minwidth 10, padding 3. */
export const TABLE_LAYOUT: TabwriterOptions = { minWidth: 10, padding: 3 };
/** docker's key/value views (`docker version`): minwidth 20, padding 1. */
export const KEY_VALUE_LAYOUT: TabwriterOptions = { minWidth: 20, padding: 1 };

export function alignColumns(text: string, options: TabwriterOptions): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const widths: number[][] = lines.map(() => []);
  // Walk column by column; a run of adjacent lines having column c forms one block.
  for (let column = 0; ; column++) {
    let any = false;
    let start = 0;
    while (start < lines.length) {
      if (lines[start]!.length - 1 <= column) { start++; continue; }
      any = true;
      let end = start;
      let width = 0;
      while (end < lines.length && lines[end]!.length - 1 > column) {
        width = Math.max(width, displayWidth(lines[end]![column]!));
        end++;
      }
      width = Math.max(width + options.padding, options.minWidth);
      for (let l = start; l < end; l++) widths[l]![column] = width;
      start = end;
    }
    if (!any) break;
  }
  return lines
    .map((cells, l) => cells.map((cell, c) => (c < cells.length - 1 ? cell + ' '.repeat(Math.max(0, widths[l]![c]! - displayWidth(cell))) : cell)).join(''))
    .join('\n');
}

function displayWidth(text: string): number {
  return [...text].length;
}
