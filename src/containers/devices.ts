/** --device: host device nodes made in the container (linux.devices) and allowed in its cgroup. */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';

export interface DeviceInput {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

export interface ContainerDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  access: string;
}

/** Linux's dev_t split as glibc's major() and minor() do. */
function majorOf(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
function minorOf(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

export async function resolveDevices(devices: readonly DeviceInput[] | null | undefined): Promise<ContainerDevice[]> {
  const result: ContainerDevice[] = [];
  for (const device of devices ?? []) {
    const host = device.PathOnHost ?? '';
    if (!posix.isAbsolute(host)) throw new InvalidArgumentError(`invalid device path: ${host}: the path on the host must be absolute`);
    const access = device.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(access)) throw new InvalidArgumentError(`invalid device mode: ${access}`);
    const info = await stat(host).catch(() => undefined);
    if (!info) throw new InvalidArgumentError(`error gathering device information while adding custom device "${host}": no such file or directory`);
    if (!info.isCharacterDevice() && !info.isBlockDevice()) throw new InvalidArgumentError(`error gathering device information while adding custom device "${host}": not a device node`);
    result.push({
      path: posix.normalize(device.PathInContainer || host),
      type: info.isCharacterDevice() ? 'c' : 'b',
      major: majorOf(info.rdev),
      minor: minorOf(info.rdev),
      fileMode: info.mode & 0o777,
      uid: info.uid,
      gid: info.gid,
      access,
    });
  }
  return result;
}
