/** Linux capability names and the sets a container gets (default, --cap-add/--cap-drop, --privileged). */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../lib/errors.js';
import { DEFAULT_CAPABILITIES } from '../oci/runtime-spec.js';

/** Capability numbers, as in linux/capability.h. */
const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

function normalize(cap: string): string {
  const upper = cap.toUpperCase();
  return upper === 'ALL' ? 'ALL' : upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** The capabilities berthd itself holds: --privileged grants these, as Docker 23+ does. */
export async function ownCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  const mask = BigInt(`0x${hex}`);
  return CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export function containerCapabilities(add: readonly string[], drop: readonly string[], held: readonly string[]): string[] {
  for (const cap of [...add, ...drop]) {
    const name = normalize(cap);
    if (name !== 'ALL' && !CAPABILITY_NAMES.includes(name)) throw new InvalidArgumentError(`unknown capability: "${cap}"`);
  }
  const adds = add.map(normalize);
  const drops = drop.map(normalize);
  let caps = drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  if (adds.includes('ALL')) caps = [...held];
  else for (const cap of adds) if (!caps.includes(cap)) caps.push(cap);
  return caps;
}
