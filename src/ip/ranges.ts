// Address ranges a network's subnet may not reach into: the kernel refuses their addresses on an
// interface (IPv6 multicast, unspecified, loopback) or takes them but routes nothing of a
// container's to or from them (IPv4 multicast, loopback, "this network"; IPv6 link-local, which
// every link already has and whose routes need a device). Pure.
import { parsePrefix, type Prefix, prefixesOverlap } from './address';

const UNUSABLE: ReadonlyArray<{ prefix: Prefix; what: string }> = [
  ['0.0.0.0/8', 'IPv4 "this network" range'],
  ['127.0.0.0/8', 'IPv4 loopback range'],
  ['224.0.0.0/4', 'IPv4 multicast range'],
  ['::/127', 'IPv6 unspecified and loopback addresses'],
  ['fe80::/10', 'IPv6 link-local range'],
  ['ff00::/8', 'IPv6 multicast range'],
].map(([cidr, what]) => ({ prefix: parsePrefix(cidr!), what: `the ${what} (${cidr})` }));

/** What a subnet reaches into that no network can use, e.g. 'the IPv6 multicast range (ff00::/8)'; undefined if nothing. */
export function unusableRangeIn(subnet: Prefix): string | undefined {
  return UNUSABLE.find((range) => prefixesOverlap(range.prefix, subnet))?.what;
}
