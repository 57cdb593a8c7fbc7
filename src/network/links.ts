/**
 * Links with iproute2: berth's bridges, and each container's sandbox: a named network namespace
 * (/run/netns/berth-<id>) made before the runtime runs, with the container's veth ends already in
 * it, so addresses and routes go in while `runc create` runs instead of after it. A veth joined
 * to a running container later (`network connect`) is made inside it through the container's pid.
 */
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NAMESPACE_DIR } from './sandbox-name.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { errnoCode, InternalError } from '../lib/errors.js';

export class Links {
  constructor(
    private readonly runner: CommandRunner,
    private readonly ipPath: string,
    private readonly nsenterPath: string,
  ) {}

  async exists(name: string): Promise<boolean> {
    return access(`/sys/class/net/${name}`).then(() => true, () => false);
  }

  /** What a device name is on the host now: nothing, a bridge, or some other kind of link. */
  async kind(name: string): Promise<LinkKind> {
    if (!(await this.exists(name))) return 'absent';
    return access(`/sys/class/net/${name}/bridge`).then(() => 'bridge' as const, () => 'other' as const);
  }

  /** A new bridge, up, with the gateway address. */
  async createBridge(name: string, gatewayCidr: string): Promise<void> {
    await this.batch([`link add ${name} type bridge`, `addr add ${gatewayCidr} dev ${name}`, `link set ${name} up`]);
    await this.enableForwarding();
  }

  /**
   * Uses a bridge someone else made: adds the gateway address when told (it lacks it) and brings
   * it up; its other addresses and settings stay as they are.
   */
  async borrowBridge(name: string, gatewayCidr: string, addGateway: boolean): Promise<void> {
    await this.batch([...(addGateway ? [`addr add ${gatewayCidr} dev ${name}`] : []), `link set ${name} up`]);
    await this.enableForwarding();
  }

  /** Undoes borrowBridge: the gateway address if it added it, and route_localnet as it was. */
  async returnBridge(name: string, gatewayCidr: string, borrowed: { addedGateway: boolean; routeLocalnet: string }): Promise<void> {
    if (!(await this.exists(name))) return;
    if (borrowed.addedGateway && (await this.hasAddress(name, gatewayCidr))) await this.batch([`addr del ${gatewayCidr} dev ${name}`]);
    await this.writeRouteLocalnet(name, borrowed.routeLocalnet);
  }

  /** The bridge's route_localnet setting now ('0' when the device is gone). */
  async routeLocalnet(name: string): Promise<string> {
    return readFile(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, 'utf8').then((t) => t.trim(), () => '0');
  }

  /** The device's IPv4 addresses, as `ip addr` shows them (address/prefix); none when it is gone. */
  async addresses(name: string): Promise<string[]> {
    if (!(await this.exists(name))) return [];
    const result = await this.runner.run(this.ipPath, ['-4', '-o', 'addr', 'show', 'dev', name]);
    if (result.exitCode !== 0) throw new InternalError(`ip addr show dev ${name}: ${result.stderr.trim()}`);
    return result.stdout.split('\n').map((line) => /\sinet\s+(\S+)/.exec(line)?.[1]).filter((a): a is string => a !== undefined);
  }

  /** Whether the device has this address (as `ip addr` shows it, address/prefix). */
  async hasAddress(name: string, cidr: string): Promise<boolean> {
    return (await this.addresses(name)).includes(cidr);
  }

  private async enableForwarding(): Promise<void> {
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  }

  /**
   * Published ports answer on 127.0.0.1: DNAT'd loopback packets may then leave by the bridge.
   * Only once the firewall drops packets for 127.0.0.0/8 that arrive from outside lo.
   */
  async allowLoopbackDnat(bridge: string): Promise<void> {
    await this.writeRouteLocalnet(bridge, '1');
  }

  private async writeRouteLocalnet(bridge: string, value: string): Promise<void> {
    await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, value).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err; // a bridge that is gone needs nothing
    });
  }

  async removeLink(name: string): Promise<void> {
    if (!(await this.exists(name))) return;
    const result = await this.runner.run(this.ipPath, ['link', 'delete', name]);
    if (result.exitCode !== 0 && (await this.exists(name))) throw new InternalError(`ip link delete ${name}: ${result.stderr.trim()}`);
  }

  /** The path runc joins for a sandbox made by createSandbox. */
  sandboxPath(name: string): string {
    return join(NAMESPACE_DIR, name);
  }

  /**
   * A new network namespace `name` holding one end of each veth pair, the other end on its bridge.
   * Leftovers of a container that ended while berthd was away (same names) are removed first.
   */
  async createSandbox(name: string, veths: readonly SandboxVeth[]): Promise<string> {
    const commands: string[] = [];
    if (await this.namespaceExists(name)) commands.push(`netns delete ${name}`);
    for (const veth of veths) if (await this.exists(veth.hostName)) commands.push(`link delete ${veth.hostName}`);
    commands.push(`netns add ${name}`);
    for (const veth of veths) {
      commands.push(`link add ${veth.hostName} type veth peer name ${veth.interfaceName} netns ${name}`, `link set ${veth.hostName} master ${veth.bridge} up`);
    }
    await this.batch(commands);
    return this.sandboxPath(name);
  }

  /** Addresses, loopback and the default route inside the sandbox (runc brings up lo only in a namespace it makes). */
  async configureSandbox(name: string, interfaces: readonly SandboxInterface[]): Promise<void> {
    const commands = ['link set lo up'];
    for (const i of interfaces) commands.push(...interfaceCommands(i));
    const result = await this.runner.run(this.ipPath, ['-n', name, '-batch', '-'], { input: batchInput(commands) });
    if (result.exitCode !== 0) throw new InternalError(`configuring the container's network: ${result.stderr.trim()}`);
  }

  /** Removes the sandbox and its veth pairs at once (the kernel frees a deleted namespace lazily). */
  async deleteSandbox(name: string, hostNames: readonly string[]): Promise<void> {
    const commands: string[] = [];
    for (const hostName of hostNames) if (await this.exists(hostName)) commands.push(`link delete ${hostName}`);
    if (await this.namespaceExists(name)) commands.push(`netns delete ${name}`);
    if (commands.length > 0) await this.batch(commands);
  }

  /** The named network namespaces on the host (every daemon's and anyone else's). */
  async namespaces(): Promise<string[]> {
    return readdir(NAMESPACE_DIR).catch(() => []);
  }

  /** The interfaces enslaved to a bridge (none when it does not exist). */
  async bridgePorts(bridge: string): Promise<string[]> {
    return readdir(`/sys/class/net/${bridge}/brif`).catch(() => []);
  }

  /**
   * Removes a sandbox nothing records any more: its veth pairs are deleted from inside (which
   * takes the host ends too, whatever they are called and even if a process still holds the
   * namespace), then the namespace.
   */
  async purgeSandbox(name: string): Promise<void> {
    const listed = await this.runner.run(this.ipPath, ['-n', name, '-o', 'link', 'show', 'type', 'veth']);
    const veths = listed.exitCode === 0 ? listed.stdout.split('\n').map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined) : [];
    if (veths.length > 0) {
      const result = await this.runner.run(this.ipPath, ['-n', name, '-batch', '-'], { input: batchInput(veths.map((v) => `link delete ${v}`)) });
      if (result.exitCode !== 0) throw new InternalError(`ip -n ${name}: ${result.stderr.trim()}`);
    }
    if (await this.namespaceExists(name)) await this.batch([`netns delete ${name}`]);
  }

  private namespaceExists(name: string): Promise<boolean> {
    return access(this.sandboxPath(name)).then(() => true, () => false);
  }

  /** A veth pair: `hostName` on the bridge, `interfaceName` with the address (and the default route) inside. */
  async plumb(options: { pid: number; hostName: string; bridge: string; address: string; prefixLength: number; gateway: string; mac: string; interfaceName: string; defaultRoute: boolean }): Promise<void> {
    const inside = options.interfaceName;
    await this.removeLink(options.hostName); // a leftover of a container that ended while berthd was away
    await this.batch([
      `link add ${options.hostName} type veth peer name ${inside} netns ${options.pid}`,
      `link set ${options.hostName} master ${options.bridge} up`,
    ]);
    await this.inNamespace(options.pid, interfaceCommands({ ...options, interfaceName: inside }));
  }

  private async inNamespace(pid: number, commands: string[]): Promise<void> {
    const result = await this.runner.run(this.nsenterPath, [`--net=/proc/${pid}/ns/net`, this.ipPath, '-batch', '-'], { input: batchInput(commands) });
    if (result.exitCode !== 0) throw new InternalError(`configuring the container's network: ${result.stderr.trim()}`);
  }

  private async batch(commands: string[]): Promise<void> {
    const result = await this.runner.run(this.ipPath, ['-batch', '-'], { input: batchInput(commands) });
    if (result.exitCode !== 0) throw new InternalError(`ip: ${result.stderr.trim()}`);
  }
}

export type LinkKind = 'absent' | 'bridge' | 'other';

export interface SandboxVeth {
  hostName: string;
  bridge: string;
  interfaceName: string;
}

export interface SandboxInterface {
  interfaceName: string;
  mac: string;
  address: string;
  prefixLength: number;
  gateway: string;
  defaultRoute: boolean;
}

/** The input of `ip -batch`: one line per command, and never a line break inside one (it would be another command). */
function batchInput(commands: readonly string[]): string {
  if (commands.some((c) => /[\n\r]/.test(c))) throw new InternalError(`refusing an ip command with a line break: ${JSON.stringify(commands.find((c) => /[\n\r]/.test(c)))}`);
  return `${commands.join('\n')}\n`;
}

function interfaceCommands(i: SandboxInterface): string[] {
  return [
    `link set ${i.interfaceName} address ${i.mac}`,
    `addr add ${i.address}/${i.prefixLength} dev ${i.interfaceName}`,
    `link set ${i.interfaceName} up`,
    ...(i.defaultRoute ? [`route replace default via ${i.gateway}`] : []),
  ];
}
