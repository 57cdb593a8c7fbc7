/**
 * Where a reference's registry really is: docker.io means registry-1.docker.io; 127.0.0.0/8,
 * localhost and the configured insecure registries may be spoken to over plain HTTP, as Docker does.
 */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

export interface RegistryHostsConfig {
  insecureRegistries: string[];
  mirrors: string[];
}

export interface RegistryEndpoint {
  /** host[:port] to connect to */
  host: string;
  /** Whether plain HTTP (and unverified TLS) is allowed. */
  insecure: boolean;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const toInt = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(base ?? '')) return false;
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return (toInt(ip) & mask) >>> 0 === (toInt(base!) & mask) >>> 0;
}

export function isInsecure(domain: string, config: RegistryHostsConfig): boolean {
  const hostname = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (hostname === 'localhost' || hostname === '::1' || cidrContains('127.0.0.0/8', hostname)) return true;
  return config.insecureRegistries.some((entry) => entry === domain || entry === hostname || (entry.includes('/') && cidrContains(entry, hostname)));
}

/** Endpoints to try for a reference's domain, mirrors first for Docker Hub. */
export function endpointsFor(domain: string, config: RegistryHostsConfig): RegistryEndpoint[] {
  if (domain === 'docker.io') {
    const mirrors = config.mirrors.map((url) => new URL(url)).map((u) => ({ host: u.host, insecure: u.protocol === 'http:' || isInsecure(u.host, config) }));
    return [...mirrors, { host: DOCKER_HUB_HOST, insecure: false }];
  }
  return [{ host: domain, insecure: isInsecure(domain, config) }];
}
