/**
 * `docker info`'s SecurityOptions, in dockerd's order and words: only what berthd applies to its
 * containers. berth applies no AppArmor or SELinux labels and runs as root without a user
 * namespace, so "name=apparmor", "name=selinux", "name=userns" and "name=rootless" never appear.
 */
export interface SecuritySettings {
  /** The kernel filters system calls (Seccomp in /proc/self/status). */
  seccompSupported: boolean;
  /** The default profile as configured: "builtin", "unconfined" or a file's path. */
  seccompProfile: string;
  /** Containers get a private cgroup namespace unless they ask otherwise. */
  cgroupnsPrivate: boolean;
}

export function securityOptionsOf(settings: SecuritySettings): string[] {
  return [
    ...(settings.seccompSupported ? [`name=seccomp,profile=${settings.seccompProfile}`] : []),
    ...(settings.cgroupnsPrivate ? ['name=cgroupns'] : []),
  ];
}
