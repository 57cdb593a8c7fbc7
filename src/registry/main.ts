/** berth-registry: `serve` the OCI Distribution API, or `garbage-collect` its storage. */
import { isMainThread, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { parseFlags, formatFlagHelp, FlagError, type FlagSpecs } from '../lib/flag-parser.js';
import { readBuildInfo } from '../lib/build-info.js';
import { RegistryStorage } from './registry-storage.js';
import { RegistryAuth } from './registry-auth.js';
import { HtpasswdChecker, readHtpasswd } from './htpasswd-checker.js';
import { BcryptWorker, BCRYPT_WORKER_ROLE, serveBcryptRequests } from './bcrypt-worker.js';
import { lockStorage } from './storage-lock.js';
import type { Clock } from '../lib/clock.js';
import { createRegistryServer } from './registry-server.js';
import { garbageCollect } from './garbage-collect.js';
import { purgeStaleUploads } from './upload-purge.js';
import { parseGoDuration } from '../lib/go-duration.js';

const SERVE_FLAGS = {
  addr: { type: 'string', usage: 'Address to listen on (host:port)', default: '127.0.0.1:5000' },
  root: { type: 'string', usage: 'Storage directory', default: '/var/lib/berth-registry' },
  htpasswd: { type: 'string', usage: 'htpasswd file with bcrypt entries (htpasswd -B) for Basic auth' },
  'token-realm': { type: 'string', usage: 'Bearer token realm (URL of the token endpoint)' },
  'token-issuer': { type: 'string', usage: 'Issuer of bearer tokens' },
  'token-service': { type: 'string', usage: 'Service name in bearer tokens', default: 'berth-registry' },
  'token-key': { type: 'string', usage: 'PEM key: private (berth-registry issues tokens at /token) or public (an external issuer does)' },
  'anonymous-pull': { type: 'bool', usage: 'Allow pulls without credentials when auth is on' },
  'tls-cert': { type: 'string', usage: 'TLS certificate (PEM)' },
  'tls-key': { type: 'string', usage: 'TLS private key (PEM)' },
  'read-only': { type: 'bool', usage: 'Refuse every write' },
  delete: { type: 'bool', usage: 'Allow deleting manifests and blobs' },
  'max-manifest-size': { type: 'int', usage: 'Largest manifest accepted, in bytes', default: 4 * 1024 * 1024 },
  'upload-purge-age': { type: 'string', usage: 'Remove unfinished blob uploads older than this ("0" keeps them)', default: '168h' },
  'upload-purge-interval': { type: 'string', usage: 'How often unfinished uploads are checked', default: '24h' },
  'log-level': { type: 'string', usage: 'Logging level (debug, info, warn, error)', default: 'info' },
  help: { type: 'bool', short: 'h', usage: 'Print usage' },
} satisfies FlagSpecs;

const GC_FLAGS = {
  root: { type: 'string', usage: 'Storage directory', default: '/var/lib/berth-registry' },
  'dry-run': { type: 'bool', short: 'd', usage: 'Only print what would be deleted' },
  help: { type: 'bool', short: 'h', usage: 'Print usage' },
} satisfies FlagSpecs;

const systemClock: Clock = { nowMs: () => Date.now(), nowNs: () => BigInt(Date.now()) * 1_000_000n };
/** bcrypt runs in a worker thread started from this same file (one bundle, no second entry). */
const BCRYPT_QUEUE_LIMIT = 64;

const USAGE = `Usage:\tberth-registry COMMAND [OPTIONS]

An OCI Distribution v1.1 registry server.

Commands:
  serve             Serve the registry API
  garbage-collect   Remove blobs no manifest references (refused while a writable registry serves the root)
  version           Print version information
`;

async function serve(argv: string[]): Promise<number> {
  const { flags } = parseFlags(SERVE_FLAGS, argv);
  if (flags.help) {
    process.stdout.write(`Usage:\tberth-registry serve [OPTIONS]\n\nOptions:\n${formatFlagHelp(SERVE_FLAGS)}\n`);
    return 0;
  }
  const match = /^(.*):(\d+)$/.exec(flags.addr);
  if (!match) throw new FlagError(`invalid --addr ${flags.addr}: use host:port`);
  if (!!flags['tls-cert'] !== !!flags['tls-key']) throw new FlagError('--tls-cert and --tls-key go together');
  const tokenFlags = [flags['token-realm'], flags['token-issuer'], flags['token-key']];
  if (tokenFlags.some(Boolean) && !tokenFlags.every(Boolean)) throw new FlagError('--token-realm, --token-issuer and --token-key go together');
  const purgeAge = parseGoDuration(flags['upload-purge-age']);
  if (purgeAge === undefined) throw new FlagError(`invalid --upload-purge-age ${flags['upload-purge-age']}: use a duration such as 168h`);
  const purgeInterval = parseGoDuration(flags['upload-purge-interval']);
  if (!purgeInterval) throw new FlagError(`invalid --upload-purge-interval ${flags['upload-purge-interval']}: use a duration such as 24h`);
  const logger = pino({ level: flags['log-level'] }, pino.destination({ fd: 2, sync: true }));
  const storage = await RegistryStorage.open(flags.root);
  // A read-only server changes nothing, so garbage collection may run beside it (as with distribution).
  const lock = flags['read-only'] ? undefined : await lockStorage(flags.root, process.pid, 'serve');
  // Under the lock, so only the one writing server purges; the first pass ends before it listens.
  const purge = async () => {
    const removed = await purgeStaleUploads(storage.root, { maxAgeMs: purgeAge, nowMs: systemClock.nowMs() });
    if (removed.length > 0) logger.info({ uploads: removed }, 'purged unfinished uploads');
  };
  const purging = lock && purgeAge > 0;
  if (purging) await purge();
  const purgeTimer = purging ? setInterval(() => void purge().catch((err: unknown) => logger.warn({ err }, 'upload purge failed')), purgeInterval) : undefined;
  purgeTimer?.unref();
  const htpasswd = flags.htpasswd
    ? new HtpasswdChecker(readHtpasswd(flags.htpasswd), new BcryptWorker(new URL(import.meta.url), BCRYPT_QUEUE_LIMIT), systemClock)
    : undefined;
  const auth = new RegistryAuth(
    {
      htpasswd,
      token: flags['token-key'] ? { realm: flags['token-realm'], issuer: flags['token-issuer'], service: flags['token-service'], keyFile: flags['token-key'] } : undefined,
      anonymousPull: flags['anonymous-pull'],
    },
    systemClock,
  );
  const server = createRegistryServer({
    storage,
    auth,
    logger,
    readOnly: flags['read-only'],
    deleteEnabled: flags.delete,
    maxManifestBytes: flags['max-manifest-size'],
    tls: flags['tls-cert'] ? { certFile: flags['tls-cert'], keyFile: flags['tls-key'] } : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(match[2]), match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(match[2]);
  logger.info({ addr: `${match[1]}:${port}`, root: flags.root, auth: auth.mode }, 'berth-registry listening');
  // Tests and scripts that pass port 0 read the real port from this line.
  process.stdout.write(`listening on ${match[1]}:${port}\n`);
  return new Promise<number>((resolve) => {
    const stop = () =>
      server.close(() => {
        clearInterval(purgeTimer);
        void Promise.all([auth.close(), lock?.release()]).finally(() => resolve(0));
      });
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function collect(argv: string[]): Promise<number> {
  const { flags } = parseFlags(GC_FLAGS, argv);
  if (flags.help) {
    process.stdout.write(`Usage:\tberth-registry garbage-collect [OPTIONS]\n\nOptions:\n${formatFlagHelp(GC_FLAGS)}\n`);
    return 0;
  }
  const storage = await RegistryStorage.open(flags.root);
  // A dry run deletes nothing, so it may look at a store a server is using.
  const lock = flags['dry-run'] ? undefined : await lockStorage(flags.root, process.pid, 'garbage-collect');
  let report;
  try {
    report = await garbageCollect(storage, { dryRun: flags['dry-run'] });
  } finally {
    await lock?.release();
  }
  for (const blob of report.swept) process.stdout.write(`${report.dryRun ? 'would delete' : 'deleted'} ${blob.digest} (${blob.size} bytes)\n`);
  process.stdout.write(`${report.marked} blobs marked, ${report.swept.length} ${report.dryRun ? 'eligible for deletion' : 'deleted'}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      case 'version':
      case '--version':
      case '-v': {
        const build = readBuildInfo();
        process.stdout.write(`berth-registry version ${build.version}, build ${build.gitCommit}\n`);
        return 0;
      }
      case 'serve':
        return await serve(rest);
      case 'garbage-collect':
        return await collect(rest);
      default:
        process.stderr.write(`berth-registry: unknown command "${command}"\nSee 'berth-registry --help'.\n`);
        return 125;
    }
  } catch (err) {
    process.stderr.write(`berth-registry: ${(err as Error).message}\n`);
    if (err instanceof FlagError) return 125;
    return 1;
  }
}

if (isMainThread) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
} else if ((workerData as { role?: string } | null)?.role === BCRYPT_WORKER_ROLE) {
  serveBcryptRequests();
}
