/** berth's entry point. */
import { runCli } from './run-cli.js';

// A reader that went away (`berth logs x | head`) ends berth quietly, as SIGPIPE ends docker.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runCli(process.argv.slice(2), process.env).then(
  async (code) => {
    // Let stdout drain before exiting so piped output is never cut short.
    await new Promise<void>((resolve) => (process.stdout.writableLength === 0 ? resolve() : process.stdout.once('drain', () => resolve())));
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
