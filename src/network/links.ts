/**
 * Links with iproute2: berth's bridge, and each container's veth pair. The container side is made
 * directly inside the container's network namespace (the one runc created; reached through the
 * container's pid), so when the container ends its namespace and both veth ends go with it.
 */
import { access, writeFile } from 'node:fs/promises';
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';

export class Links {
  constructor(
    private readonly runner: CommandRunner,
    private readonly ipPath: string,
    private readonly nsenterPath: string,
  ) {}

  async exists(name: string): Promise<boolean> {
    return access(`/sys/class/net/${name}`).then(() => true, () => false);
  }

  /** Creates the bridge with the gateway address unless it is there; allows loopback DNAT to it. */
  async ensureBridge(name: string, gatewayCidr: string): Promise<void> {
    if (!(await this.exists(name))) {
      await this.batch([`link add ${name} type bridge`, `addr add ${gatewayCidr} dev ${name}`, `link set ${name} up`]);
    }
    // Published ports answer on 127.0.0.1: DNAT'd loopback packets may then leave by the bridge.
    await writeFile(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  }

  async removeLink(name: string): Promise<void> {
    if (!(await this.exists(name))) return;
    const result = await this.runner.run(this.ipPath, ['link', 'delete', name]);
    if (result.exitCode !== 0 && (await this.exists(name))) throw new InternalError(`ip link delete ${name}: ${result.stderr.trim()}`);
  }

  /** A veth pair: `hostName` on the bridge, `interfaceName` with the address (and the default route) inside. */
  async plumb(options: { pid: number; hostName: string; bridge: string; address: string; prefixLength: number; gateway: string; mac: string; interfaceName: string; defaultRoute: boolean }): Promise<void> {
    const inside = options.interfaceName;
    await this.removeLink(options.hostName); // a leftover of a container that ended while berthd was away
    await this.batch([
      `link add ${options.hostName} type veth peer name ${inside} netns ${options.pid}`,
      `link set ${options.hostName} master ${options.bridge} up`,
    ]);
    await this.inNamespace(options.pid, [
      `link set ${inside} address ${options.mac}`,
      `addr add ${options.address}/${options.prefixLength} dev ${inside}`,
      `link set ${inside} up`,
      ...(options.defaultRoute ? [`route replace default via ${options.gateway}`] : []),
    ]);
  }

  private async inNamespace(pid: number, commands: string[]): Promise<void> {
    const result = await this.runner.run(this.nsenterPath, [`--net=/proc/${pid}/ns/net`, this.ipPath, '-batch', '-'], { input: `${commands.join('\n')}\n` });
    if (result.exitCode !== 0) throw new InternalError(`configuring the container's network: ${result.stderr.trim()}`);
  }

  private async batch(commands: string[]): Promise<void> {
    const result = await this.runner.run(this.ipPath, ['-batch', '-'], { input: `${commands.join('\n')}\n` });
    if (result.exitCode !== 0) throw new InternalError(`ip: ${result.stderr.trim()}`);
  }
}
