// Records version, git commit and build time for `berth version` and GET /version.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let gitCommit = 'unknown';
try {
  gitCommit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // not a git checkout (a tarball): keep "unknown"
}
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
const target = new URL('../dist/build-info.json', import.meta.url);
const temp = new URL('../dist/build-info.json.tmp', import.meta.url);
writeFileSync(temp, JSON.stringify({ version: pkg.version, gitCommit, buildTime: new Date().toISOString() }) + '\n');
renameSync(temp, target);
