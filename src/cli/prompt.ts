/** docker's confirmation prompt: "Are you sure you want to continue? [y/N] ". */
import { createInterface } from 'node:readline';
import type { CliContext } from './command.js';

export async function confirm(ctx: CliContext, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  if (!process.stdin.readable) return false;
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
