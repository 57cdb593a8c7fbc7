import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp, parseSeccompProfile, seccompChoiceOf } from './seccomp-profile.js';
import { defaultSeccompProfile } from './seccomp-default.js';
import { DEFAULT_CAPABILITIES } from './runtime-spec.js';

type Compiled = { defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; syscalls: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[] };
const compile = (capabilities: readonly string[], goArch = 'amd64', kernelRelease = '6.1.0-13-amd64') =>
  compileSeccomp(defaultSeccompProfile(), { goArch, kernelRelease, capabilities }) as unknown as Compiled;
const allowed = (c: Compiled, name: string) => c.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args && r.names.includes(name));

test('the built-in profile denies with EPERM by default, for x86_64 and its 32-bit ABIs', () => {
  const c = compile(DEFAULT_CAPABILITIES);
  assert.equal(c.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(c.defaultErrnoRet, 1);
  assert.deepEqual(c.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(compile(DEFAULT_CAPABILITIES, 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('namespace, mount and keyring syscalls need CAP_SYS_ADMIN; clone loses its namespace flags and clone3 reports ENOSYS', () => {
  const plain = compile(DEFAULT_CAPABILITIES);
  for (const name of ['unshare', 'setns', 'mount', 'umount2', 'bpf', 'keyctl', 'add_key', 'reboot', 'init_module']) assert.equal(allowed(plain, name), false, name);
  for (const name of ['read', 'mkdirat', 'openat', 'chroot', 'arch_prctl', 'ptrace']) assert.equal(allowed(plain, name), true, name);
  const clone = plain.syscalls.find((r) => r.names.includes('clone'));
  assert.deepEqual(clone?.args, [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.deepEqual(plain.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });

  const admin = compile([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  for (const name of ['unshare', 'setns', 'mount', 'clone', 'clone3']) assert.equal(allowed(admin, name), true, name);
  assert.equal(admin.syscalls.some((r) => r.action === 'SCMP_ACT_ERRNO'), false);
  // Not in any group: the keyring stays closed even to CAP_SYS_ADMIN.
  assert.equal(allowed(admin, 'keyctl'), false);
  // Without CAP_SYS_CHROOT, no chroot.
  assert.equal(allowed(compile(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot'), false);
});

test('conditions on architecture and kernel version', () => {
  assert.equal(allowed(compile(DEFAULT_CAPABILITIES, 'arm64'), 'arch_prctl'), false);
  assert.equal(allowed(compile(DEFAULT_CAPABILITIES, 'arm64'), 'set_tls'), true);
  assert.equal(allowed(compile(DEFAULT_CAPABILITIES, 'amd64', '4.4.0'), 'ptrace'), false);
  assert.equal(allowed(compile(DEFAULT_CAPABILITIES, 'amd64', '4.8.1'), 'ptrace'), true);
});

test('parse: Docker\'s message for JSON that does not decode, and shape errors before any container starts', () => {
  assert.throws(() => parseSeccompProfile('{"defaultAction":'), /^InvalidArgumentError: Decoding seccomp profile failed: /);
  assert.throws(() => parseSeccompProfile('[]'), /Decoding seccomp profile failed: the profile must be a JSON object/);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"NOPE"}]}'), /syscalls\[0\]: invalid action "NOPE"/);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}'), /args/);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}'), /use either 'architectures' or 'archMap'/);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}'), /use either 'name' or 'names'/);
  const profile = parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":1}]}');
  assert.deepEqual(compileSeccomp(profile, { goArch: 'amd64', kernelRelease: '6.1', capabilities: [] }), {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  });
});

test('the seccomp= option: none, builtin, unconfined, or the JSON text the CLI sent', () => {
  assert.deepEqual(seccompChoiceOf(['no-new-privileges']), { kind: 'daemon-default' });
  assert.deepEqual(seccompChoiceOf(['seccomp=unconfined']), { kind: 'unconfined' });
  assert.deepEqual(seccompChoiceOf(['seccomp=builtin']), { kind: 'builtin' });
  assert.equal(seccompChoiceOf(['seccomp={"defaultAction":"SCMP_ACT_LOG"}']).kind, 'custom');
  assert.throws(() => seccompChoiceOf(['seccomp=/etc/profile.json']), /Decoding seccomp profile failed/);
});
