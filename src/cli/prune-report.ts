/** The report docker's prune commands print: a section per kind of object removed, then the total. */
import { humanSize } from '../lib/human-units.js';

/** "Deleted Containers:" and one ID per line, then a blank line; nothing when nothing went. */
export function deletedSection(title: string, items: readonly string[]): string {
  return items.length > 0 ? `${title}:\n${items.map((item) => `${item}\n`).join('')}\n` : '';
}

export function reclaimedLine(bytes: number): string {
  return `Total reclaimed space: ${humanSize(bytes)}\n`;
}
