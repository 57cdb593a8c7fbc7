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
  // Bundled CommonJS dependencies (pino) still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
});

// V8 keeps a bundle's source in memory for lazy compilation: as Latin-1 when every character is,
// as UTF-16 (twice the size) when a single one is not, even in a comment.
for (const name of ['berthd', 'berth', 'berth-registry']) {
  const text = readFileSync(new URL(`dist/${name}.mjs`, root), 'utf8');
  const wide = text.search(/[^\x00-\xff]/);
  if (wide !== -1) console.warn(`warning: dist/${name}.mjs holds a non-Latin-1 character at offset ${wide} (${JSON.stringify(text.slice(Math.max(0, wide - 30), wide + 10))}): its source takes twice the memory`);
}

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
