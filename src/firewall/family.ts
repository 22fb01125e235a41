// The two address families the firewall programs: iptables for IPv4, ip6tables for IPv6,
// with the same chains and the few spellings that differ.

export type Family = 'ipv4' | 'ipv6';

export const familyOf = (address: string): Family => (address.includes(':') ? 'ipv6' : 'ipv4');

export interface FamilyTraits {
  family: Family;
  /** iptables or ip6tables: the -save and -restore tools are this name plus a suffix. */
  command: 'iptables' | 'ip6tables';
  /** Prefix length of one host address. */
  hostLength: 32 | 128;
  /**
   * Loopback, when published ports cannot be reached through it: IPv4 routes 127.0.0.0/8 into a
   * bridge with route_localnet (and masquerades it), IPv6 has no such switch.
   */
  unreachableLoopback: string | undefined;
  /** How iptables spells a DNAT target. */
  dnatTarget(address: string, port: number): string;
  /** Addresses meaning "every local address" for a published port. */
  anyAddress: string;
}

export const IPV4: FamilyTraits = { family: 'ipv4', command: 'iptables', hostLength: 32, unreachableLoopback: undefined, dnatTarget: (a, p) => `${a}:${p}`, anyAddress: '0.0.0.0' };
export const IPV6: FamilyTraits = { family: 'ipv6', command: 'ip6tables', hostLength: 128, unreachableLoopback: '::1/128', dnatTarget: (a, p) => `[${a}]:${p}`, anyAddress: '::' };
