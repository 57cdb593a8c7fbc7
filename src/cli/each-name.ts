/** Commands that act on several names (rm, stop, update, ...): docker's output and error collection. */
import type { CliContext } from './command.js';
import { CliError, DaemonError } from './cli-errors.js';

/** Runs `action` for each name, printing each name; daemon errors are collected and reported together, as docker does. */
export async function forEachName(ctx: CliContext, names: string[], action: (name: string) => Promise<void>, options: { print?: boolean; ignore404?: boolean } = {}): Promise<number> {
  const errors: string[] = [];
  for (const name of names) {
    try {
      await action(name);
      if (options.print !== false) ctx.stdout.write(`${name}\n`);
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err;
      if (options.ignore404 && err.status === 404) continue;
      errors.push(`Error response from daemon: ${err.message}`);
    }
  }
  if (errors.length) throw new CliError(errors.join('\n'), 1);
  return 0;
}
