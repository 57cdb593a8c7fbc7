/** IPv4 addresses and subnets as numbers, for IPAM arithmetic. */
import { InvalidArgumentError } from '../lib/errors.js';

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIPv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new InvalidArgumentError(`invalid IPv4 address: ${text}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "172.18.0.0/16" (or an address inside it, as --bip gives) into its network. */
export function parseSubnet(cidr: string): Subnet {
  const [address, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (!address || prefixText === undefined || !Number.isInteger(prefix) || prefix < 1 || prefix > 30) throw new InvalidArgumentError(`invalid subnet ${cidr}: expected an IPv4 CIDR such as 172.18.0.0/16`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (parseIPv4(address) & mask) >>> 0, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIPv4(subnet.base)}/${subnet.prefix}`;
}

export function subnetSize(subnet: Subnet): number {
  return 2 ** (32 - subnet.prefix);
}

export function contains(subnet: Subnet, address: number): boolean {
  return address >= subnet.base && address < subnet.base + subnetSize(subnet);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + subnetSize(b) && b.base < a.base + subnetSize(a);
}

/** Docker's MAC for an address: 02:42 and then the four bytes of the IPv4 address. */
export function macForAddress(address: number): string {
  const bytes = [0x02, 0x42, address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
