/** What the network routes need from the engine. */
export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface NetworkBackend {
  list(): Record<string, unknown>[];
  inspect(term: string): Record<string, unknown>;
  create(body: NetworkCreateBody): Promise<{ id: string }>;
  remove(term: string): Promise<void>;
  connect(network: string, container: string, settings: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }): Promise<void>;
  disconnect(network: string, container: string): Promise<void>;
  prune(labels: string[]): Promise<string[]>;
}
