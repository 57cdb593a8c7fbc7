/** Every extended attribute under a directory, read with one `getfattr -R` (Node has no getxattr). */
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';

/** getfattr escapes unusual bytes in names as \ooo. */
function unescapeOctal(text: string): string {
  return Buffer.from(text.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))), 'latin1').toString('utf8');
}

export async function dumpXattrs(dir: string, runner: CommandRunner): Promise<Map<string, Map<string, Buffer>>> {
  const result = await runner.run('getfattr', ['-R', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '-h', dir]);
  if (result.exitCode !== 0 && result.stdout === '') {
    if (/No such file/.test(result.stderr)) return new Map();
    if (result.stderr.trim() !== '') throw new InternalError(`getfattr failed: ${result.stderr.trim()}`);
  }
  const byPath = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      byPath.set(unescapeOctal(line.slice('# file: '.length)), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq === -1) continue;
    const value = line.slice(eq + 1);
    current.set(line.slice(0, eq), value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, '')));
  }
  return byPath;
}
