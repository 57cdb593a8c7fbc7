import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, FlagError } from './flag-parser.js';

const runFlags = {
  detach: { type: 'bool', short: 'd', usage: 'Run container in background' },
  publish: { type: 'strings', short: 'p', usage: 'Publish a port' },
  interactive: { type: 'bool', short: 'i', usage: 'Keep STDIN open' },
  tty: { type: 'bool', short: 't', usage: 'Allocate a pseudo-TTY' },
  rm: { type: 'bool', usage: 'Remove on exit' },
  env: { type: 'strings', short: 'e', usage: 'Set environment variables' },
  name: { type: 'string', usage: 'Container name' },
  'stop-timeout': { type: 'int', usage: 'Timeout' },
} as const;

const parseRun = (argv: string[]) => parseFlags(runFlags, argv, { interspersed: false });

test('-dp 80:80 sets detach and takes the next argument as the publish value', () => {
  const r = parseRun(['-dp', '80:80', 'nginx']);
  assert.equal(r.flags.detach, true);
  assert.deepEqual(r.flags.publish, ['80:80']);
  assert.deepEqual(r.positionals, ['nginx']);
});

test('-p80:80 takes the attached value', () => {
  const r = parseRun(['-p80:80', 'nginx']);
  assert.deepEqual(r.flags.publish, ['80:80']);
  assert.equal(r.flags.detach, false);
});

test('-p=80:80 drops the equals sign as pflag does', () => {
  assert.deepEqual(parseRun(['-p=80:80', 'x']).flags.publish, ['80:80']);
});

test('-it sets both bools', () => {
  const r = parseRun(['-it', 'busybox', 'sh']);
  assert.equal(r.flags.interactive, true);
  assert.equal(r.flags.tty, true);
  assert.deepEqual(r.positionals, ['busybox', 'sh']);
});

test('--rm=false turns a bool off and --rm turns it on', () => {
  assert.equal(parseRun(['--rm=false', 'x']).flags.rm, false);
  assert.equal(parseRun(['--rm', 'x']).flags.rm, true);
  assert.equal(parseRun(['--rm=0', 'x']).flags.rm, false);
  assert.ok(parseRun(['--rm=false', 'x']).changed.has('rm'));
});

test('a bool given a non-boolean value is refused with pflag\'s message', () => {
  assert.throws(() => parseRun(['--rm=maybe', 'x']), (err: unknown) => {
    assert.ok(err instanceof FlagError);
    assert.equal(err.message, 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
    return true;
  });
});

test('repeated flags accumulate: -e A -e B', () => {
  assert.deepEqual(parseRun(['-e', 'A', '-e', 'B', 'x']).flags.env, ['A', 'B']);
});

test('--env=X=1 keeps everything after the first equals sign', () => {
  assert.deepEqual(parseRun(['--env=X=1', 'x']).flags.env, ['X=1']);
  assert.deepEqual(parseRun(['--env', 'Y=a=b', 'x']).flags.env, ['Y=a=b']);
});

test('run IMG ls -la: flags after the image belong to the command', () => {
  const r = parseRun(['--name', 'web', 'IMG', 'ls', '-la', '--rm']);
  assert.equal(r.flags.name, 'web');
  assert.equal(r.flags.rm, false);
  assert.deepEqual(r.positionals, ['IMG', 'ls', '-la', '--rm']);
});

test('run -- IMG: a double dash ends the flags', () => {
  const r = parseRun(['-d', '--', 'IMG', '-x']);
  assert.equal(r.flags.detach, true);
  assert.deepEqual(r.positionals, ['IMG', '-x']);
});

test('interspersed parsing takes flags after positionals', () => {
  const r = parseFlags(runFlags, ['a', '-d', 'b']);
  assert.equal(r.flags.detach, true);
  assert.deepEqual(r.positionals, ['a', 'b']);
});

test('unknown flags and missing values are errors with pflag\'s words', () => {
  assert.throws(() => parseRun(['--nope', 'x']), /^FlagError: unknown flag: --nope$|unknown flag: --nope/);
  assert.throws(() => parseRun(['-z', 'x']), /unknown shorthand flag: 'z' in -z/);
  assert.throws(() => parseRun(['--name']), /flag needs an argument: --name/);
  assert.throws(() => parseRun(['-dp']), /flag needs an argument: 'p' in -p/);
});

test('int flags parse decimal integers and refuse the rest', () => {
  assert.equal(parseRun(['--stop-timeout', '15', 'x']).flags['stop-timeout'], 15);
  assert.throws(() => parseRun(['--stop-timeout=ten', 'x']), /strconv.ParseInt: parsing "ten": invalid syntax/);
});

test('a lone dash is a positional argument (stdin)', () => {
  assert.deepEqual(parseFlags(runFlags, ['-']).positionals, ['-']);
});
