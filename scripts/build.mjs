// Builds the three executables as single-file ESM bundles (dist/berthd.mjs, dist/berth.mjs,
// dist/berth-registry.mjs): one file loads in ~40% less time than hundreds of modules, which
// is most of berthd's start-up budget. Also records version, commit and build time.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

await build({
  entryPoints: {
    berthd: 'src/daemon/main.ts',
    berth: 'src/cli/main.ts',
    'berth-registry': 'src/registry/main.ts',
  },
  absWorkingDir: new URL('.', root).pathname,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (fastify, pino) still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
});

let gitCommit = 'unknown';
try {
  gitCommit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // not a git checkout: keep "unknown"
}
mkdirSync(new URL('dist/', root), { recursive: true });
const temp = new URL('dist/build-info.json.tmp', root);
writeFileSync(temp, JSON.stringify({ version: pkg.version, gitCommit, buildTime: new Date().toISOString() }) + '\n');
renameSync(temp, new URL('dist/build-info.json', root));
