// What an attachment left in a container's namespace, read with iproute2 rather than netctl's own
// netlink code: a benchmark must time real work, and an attach that silently did less (no link,
// the wrong kind, no address) would look fast.
import { execFileSync } from 'node:child_process';

/** The networks the attach benchmarks connect containers to, by driver. */
export type AttachDriver = 'bridge' | 'macvlan';

/** The macvlan parent in every macvlan test host: a veth end made there (see macvlan.bench.ts). */
export const MACVLAN_PARENT = 'ul0';

/**
 * The link each driver gives a container: a veth end on a bridge, or a macvlan on the parent, in
 * bridge mode (Docker's default, and what the CNI and netavark peers are configured for) so that
 * every peer does the same work.
 */
const EXPECTED: Record<AttachDriver, { kind: string; mode?: string }> = { bridge: { kind: 'veth' }, macvlan: { kind: 'macvlan', mode: 'bridge' } };

interface IpLink {
  ifname: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
  addr_info: Array<{ family: string; local: string }>;
}

const describe = (link: IpLink): string => `${link.ifname} (${link.linkinfo?.info_kind ?? 'no kind'} ${link.linkinfo?.info_data?.mode ?? ''}, ${link.flags.join(',')}, ${link.addr_info.map((a) => a.local).join(' ')})`;

/** Throws unless the namespace at `netnsPath` has exactly one link besides lo: the driver's, up, with an IPv4 address. */
export function expectAttached(netnsPath: string, driver: AttachDriver, who: string): void {
  const out = execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', '-j', '-d', 'address', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  const links = (JSON.parse(out) as IpLink[]).filter((link) => link.ifname !== 'lo');
  const expected = EXPECTED[driver];
  const [link] = links;
  const ok =
    link !== undefined &&
    links.length === 1 &&
    link.linkinfo?.info_kind === expected.kind &&
    (expected.mode === undefined || link.linkinfo.info_data?.mode === expected.mode) &&
    link.flags.includes('UP') &&
    link.addr_info.some((a) => a.family === 'inet');
  if (!ok) throw new Error(`${who}: expected one ${expected.kind} ${expected.mode ?? ''} link, up, with an IPv4 address in ${netnsPath}; found: ${links.map(describe).join('; ') || 'none'}`);
}
