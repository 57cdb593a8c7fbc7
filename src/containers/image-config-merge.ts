/**
 * The container's config as Docker keeps it: what the client sent, completed from the image's
 * config at create (moby's merge). Inspect shows it, commit starts from it, and the process is
 * made from it, so a later change to the image cannot change the container.
 */
import type { ContainerConfig, HealthConfig } from '../oci/index.js';
import type { ContainerConfigInput } from './container-record.js';

const envKey = (entry: string): string => entry.split('=', 1)[0]!;

function mergeHealthcheck(own: HealthConfig | null | undefined, image: HealthConfig | undefined): HealthConfig | null | undefined {
  if (!image) return own;
  if (!own) return image;
  // A field the client left at its zero value is the image's.
  return {
    ...own,
    Test: own.Test && own.Test.length > 0 ? own.Test : image.Test,
    ...(!own.Interval && image.Interval ? { Interval: image.Interval } : {}),
    ...(!own.Timeout && image.Timeout ? { Timeout: image.Timeout } : {}),
    ...(!own.StartPeriod && image.StartPeriod ? { StartPeriod: image.StartPeriod } : {}),
    ...(!own.StartInterval && image.StartInterval ? { StartInterval: image.StartInterval } : {}),
    ...(!own.Retries && image.Retries ? { Retries: image.Retries } : {}),
  };
}

/** The client's config with the image's values where the client gave none; Entrypoint [""] clears it. */
export function mergeImageConfig(config: ContainerConfigInput, image: ContainerConfig): ContainerConfigInput {
  const merged: ContainerConfigInput = { ...config };
  if (!merged.User) merged.User = image.User ?? '';
  merged.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...(config.ExposedPorts ?? {}) };
  if (Object.keys(merged.ExposedPorts).length === 0) delete merged.ExposedPorts;
  const own = config.Env ?? [];
  const ownKeys = new Set(own.map(envKey));
  const env = [...own, ...(image.Env ?? []).filter((e) => !ownKeys.has(envKey(e)))];
  merged.Env = own.length === 0 && !image.Env ? (config.Env ?? null) : env;
  merged.Labels = { ...(image.Labels ?? {}), ...(config.Labels ?? {}) };
  // The image's Cmd goes with its Entrypoint: a client Entrypoint (even [""]) drops both.
  if (!config.Entrypoint || config.Entrypoint.length === 0) {
    if (!config.Cmd || config.Cmd.length === 0) merged.Cmd = image.Cmd ?? null;
    if (config.Entrypoint === null || config.Entrypoint === undefined) merged.Entrypoint = image.Entrypoint ?? null;
  }
  // `--entrypoint ""` (the CLI sends [""]): run the Cmd alone, as moby's mergeAndVerifyConfig.
  if (merged.Entrypoint?.length === 1 && merged.Entrypoint[0] === '') merged.Entrypoint = null;
  const health = mergeHealthcheck(config.Healthcheck, image.Healthcheck);
  if (health) merged.Healthcheck = health;
  if (!merged.WorkingDir) merged.WorkingDir = image.WorkingDir ?? '';
  const volumes = { ...(config.Volumes ?? {}), ...(image.Volumes ?? {}) };
  merged.Volumes = Object.keys(volumes).length > 0 ? volumes : null;
  if (!merged.StopSignal && image.StopSignal) merged.StopSignal = image.StopSignal;
  return merged;
}

