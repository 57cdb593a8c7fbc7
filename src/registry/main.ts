/**
 * berth-registry's entry point. The OCI Distribution server itself is its own issue; until it
 * lands, this says so plainly instead of pretending to serve.
 */
import { readBuildInfo } from '../lib/build-info.js';

const USAGE = `Usage:\tberth-registry COMMAND [OPTIONS]

An OCI Distribution registry server.

Commands:
  serve             Serve the registry API (not implemented in this build)
  garbage-collect   Remove blobs no manifest references (not implemented in this build)
  version           Print version information
`;

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'version' || command === '--version' || command === '-v') {
    const build = readBuildInfo();
    process.stdout.write(`berth-registry version ${build.version}, build ${build.gitCommit}\n`);
    return 0;
  }
  if (command === 'serve' || command === 'garbage-collect') {
    process.stderr.write(`berth-registry: ${command} is not implemented in this build yet\n`);
    return 1;
  }
  process.stderr.write(`berth-registry: unknown command "${command}"\nSee 'berth-registry --help'.\n`);
  return 125;
}

process.exit(main(process.argv.slice(2)));
