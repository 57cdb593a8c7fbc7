/** HEALTHCHECK: NONE, or CMD (exec or shell form) with --interval, --timeout, --start-period, --start-interval, --retries. */
import type { HealthConfig } from '../oci/index.js';
import { parseGoDuration } from '../lib/go-duration.js';
import { DockerfileError } from './dockerfile-error.js';
import { flagValues, type Instruction } from './dockerfile-parser.js';

export function healthcheckOf(instruction: Instruction): HealthConfig {
  const flags = flagValues(instruction, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
  const rest = instruction.args.trim();
  const keyword = rest.split(/\s+/)[0]?.toUpperCase();
  if (keyword === 'NONE') {
    if (rest.split(/\s+/).length > 1 || flags.size > 0) throw new DockerfileError('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (keyword !== 'CMD') throw new DockerfileError(`Unknown type "${keyword ?? ''}" in HEALTHCHECK (try CMD)`);
  const command = rest.slice(3).trim();
  let test: string[];
  try {
    const parsed: unknown = JSON.parse(command);
    test = Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? ['CMD', ...(parsed as string[])] : ['CMD-SHELL', command];
  } catch {
    test = ['CMD-SHELL', command];
  }
  const health: HealthConfig = { Test: test };
  const duration = (name: string, field: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval') => {
    const text = flags.get(name);
    if (text === undefined) return;
    const ms = parseGoDuration(text);
    if (ms === undefined) throw new DockerfileError(`time: invalid duration "${text}"`);
    if (ms !== 0 && ms < 1) throw new DockerfileError(`Interval "${name}" cannot be less than 1ms`);
    (health as Record<string, number>)[field] = Math.round(ms * 1e6);
  };
  duration('interval', 'Interval');
  duration('timeout', 'Timeout');
  duration('start-period', 'StartPeriod');
  duration('start-interval', 'StartInterval');
  const retries = flags.get('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries) || Number(retries) < 1) throw new DockerfileError(`--retries must be at least 1 (not ${retries})`);
    health.Retries = Number(retries);
  }
  return health;
}
