import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile-parser.js';
import { expandWord, expandWords, keyValuePairs } from './word-expansion.js';

test('directives, comments, continuations and the backtick escape', () => {
  const parsed = parseDockerfile('# escape=`\n# a comment\nFROM busybox\nRUN echo a `\n  # dropped comment\n  b\nCOPY C:\\src C:\\dst\n');
  assert.equal(parsed.escape, '`');
  assert.deepEqual(parsed.instructions.map((i) => [i.keyword, i.line, i.args]), [
    ['FROM', 3, 'busybox'],
    ['RUN', 4, 'echo a   b'],
    ['COPY', 7, 'C:\\src C:\\dst'],
  ]);
});

test('exec form with the shell-form fallback, flags and heredocs', () => {
  const parsed = parseDockerfile('FROM scratch\nCMD ["a", "b"]\nCMD [not json]\nCOPY --from=build --chown=1:2 a /b\nRUN <<-EOF\n\techo hi\n\tEOF\n');
  const [, exec, shell, copy, run] = parsed.instructions;
  assert.deepEqual(exec!.json, ['a', 'b']);
  assert.equal(shell!.json, undefined);
  assert.equal(shell!.args, '[not json]');
  assert.deepEqual(copy!.flags, [{ name: 'from', value: 'build' }, { name: 'chown', value: '1:2' }]);
  assert.equal(copy!.args, 'a /b');
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', content: 'echo hi\n', expand: true }]);
});

test('errors name the line', () => {
  assert.throws(() => parseDockerfile('FROM busybox\nBOGUS x\n'), /Dockerfile parse error line 2: unknown instruction: BOGUS/);
  assert.throws(() => parseDockerfile('RUN true\n'), /no build stage in current context/);
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\nnever closed\n'), /line 2: unterminated heredoc EOF/);
});

test('variable expansion: forms, quotes and escapes', () => {
  const vars = new Map([['A', 'x'], ['EMPTY', '']]);
  const lookup = (n: string) => vars.get(n);
  assert.equal(expandWord('$A-${A}_${B:-def}${EMPTY:-e}${EMPTY-u}${A:+set}${B:+no}', lookup), 'x-x_defeset');
  assert.equal(expandWord("'$A' \"$A\" \\$A", lookup), '$A x $A');
  assert.deepEqual(expandWords('a "b c" d\\ e $A', lookup), ['a', 'b c', 'd e', 'x']);
  assert.throws(() => expandWord('${B:?must be set}', lookup), /B: must be set/);
});

test('ENV and LABEL pairs, and the legacy one-pair form', () => {
  const lookup = () => undefined;
  assert.deepEqual(keyValuePairs('A=1 B="two words" C=a\\ b', lookup, '\\', 'ENV'), [['A', '1'], ['B', 'two words'], ['C', 'a b']]);
  assert.deepEqual(keyValuePairs('NAME some value here', lookup, '\\', 'ENV'), [['NAME', 'some value here']]);
  assert.throws(() => keyValuePairs('A=1 B', lookup, '\\', 'LABEL'), /can't find = in "B"/);
});
