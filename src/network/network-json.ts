/** A network in Docker's JSON shape (GET /networks and /networks/{id}). */
import type { EndpointRecord, NetworkRecord } from './network-state.js';

export function toNetworkJson(network: NetworkRecord, endpoints: EndpointRecord[] | undefined, containerName: (id: string) => string): Record<string, unknown> {
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: 'local',
    Driver: network.driver,
    EnableIPv4: network.driver === 'bridge',
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: network.driver === 'bridge' ? [{ Subnet: network.subnet, Gateway: network.gateway, ...(network.ipRange ? { IPRange: network.ipRange } : {}) }] : [],
    },
    Internal: network.internal,
    Attachable: network.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    // The list leaves containers out, as Docker's does; inspect fills them in.
    Containers: Object.fromEntries(
      (endpoints ?? []).map((e) => [e.containerId, { Name: containerName(e.containerId), EndpointID: e.endpointId, MacAddress: e.macAddress, IPv4Address: `${e.ipAddress}/${e.prefixLength}`, IPv6Address: '' }]),
    ),
    Options: network.options,
    Labels: network.labels,
  };
}
