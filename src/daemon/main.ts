/** berthd's entry point: flags and daemon.json, logging, signals, then the engine. */
import { pino } from 'pino';
import { loadDaemonConfig, DAEMON_FLAGS } from './config.js';
import { startEngine } from './engine.js';
import { SystemClock } from './system-clock.js';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';
import { FlagError, formatFlagHelp } from '../lib/flag-parser.js';
import { readBuildInfo } from '../lib/build-info.js';

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = await loadDaemonConfig(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    if (err instanceof FlagError) {
      process.stderr.write("See 'berthd --help'.\n");
      return 125;
    }
    return 1;
  }
  if (command.kind === 'help') {
    process.stdout.write(`Usage:\tberthd [OPTIONS]\n\nA self-sufficient runtime for containers that speaks the Docker Engine API.\n\nOptions:\n${formatFlagHelp(DAEMON_FLAGS)}\n`);
    return 0;
  }
  if (command.kind === 'version') {
    const build = readBuildInfo();
    process.stdout.write(`Berth version ${build.version}, build ${build.gitCommit}\n`);
    return 0;
  }
  const config = command.config;
  const logger = pino({ level: config.debug ? 'debug' : config.logLevel, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });

  // Signals are handled from the start: one that arrives while the engine is still starting
  // stops it as soon as it is up, never kills it halfway.
  let stopRequested: NodeJS.Signals | undefined;
  let onStopRequest: ((signal: NodeJS.Signals) => void) | undefined;
  const handleSignal = (signal: NodeJS.Signals) => {
    if (onStopRequest) onStopRequest(signal);
    else stopRequested ??= signal;
  };
  process.on('SIGTERM', handleSignal);
  process.on('SIGINT', handleSignal);
  process.on('SIGHUP', () => logger.info('SIGHUP: configuration reload is not supported yet; restart berthd to apply changes'));

  let engine;
  try {
    engine = await startEngine(config, {
      logger,
      clock: new SystemClock(),
      runner: new ChildProcessCommandRunner(),
      searchPath: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      pid: process.pid,
    });
  } catch (err) {
    logger.error({ err }, 'failed to start daemon');
    process.stderr.write(`berthd: failed to start daemon: ${(err as Error).message}\n`);
    return 1;
  }

  const running = engine;
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStopRequest = (signal) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting at once');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'processing signal, shutting down');
      running.stop().then(
        () => {
          logger.info('daemon shut down');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    if (stopRequested) onStopRequest(stopRequested);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`berthd: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
