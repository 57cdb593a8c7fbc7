// The Docker Engine API swagger (YAML, Swagger 2) as an OpenAPI 3 object, converted by
// swagger2openapi (a dev dependency already used by scripts/gen-api-types): the generators that
// derive committed files from the spec share this instead of each parsing YAML.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const defaultSpecPath = join(repoRoot, '..', 'shared', 'reference', 'docker-engine-api.yaml');

export function loadEngineOpenApi(specPath = defaultSpecPath) {
  const work = mkdtempSync(join(tmpdir(), 'berth-engine-openapi-'));
  try {
    execFileSync('npx', ['--no-install', 'swagger2openapi', '--patch', '--outfile', join(work, 'openapi.json'), specPath], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(readFileSync(join(work, 'openapi.json'), 'utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
