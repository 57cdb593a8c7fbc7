/** A volume in Docker's JSON shape (GET /volumes, /volumes/{name}, POST /volumes/create). */
import type { VolumeRecord } from './volume-service.js';

export function volumeJson(volume: VolumeRecord, mountpoint: string): Record<string, unknown> {
  return {
    CreatedAt: volume.createdAt,
    Driver: volume.driver,
    Labels: volume.labels,
    Mountpoint: mountpoint,
    Name: volume.name,
    Options: Object.keys(volume.options).length > 0 ? volume.options : null,
    Scope: 'local',
  };
}
