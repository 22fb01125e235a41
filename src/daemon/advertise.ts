// The address other daemons reach this one at: an IP that must be on this host, or an interface
// whose first IPv4 address is taken. Checked through netlink, so a typo fails at start rather than
// as a member nobody can reach.
import type { NetlinkHandle } from '../netlink';
import { LinkNotFoundError } from '../netlink';
import { ClusterConfigError, isAddress } from '../cluster/config';

type AddressLister = Pick<NetlinkHandle, 'addrList'>;

export async function resolveAdvertiseAddress(value: string, netlink: AddressLister): Promise<string> {
  if (isAddress(value)) {
    const local = await netlink.addrList();
    if (local.some((a) => a.ip === value)) return value;
    throw new ClusterConfigError(
      `--advertise-addr ${value} is not an address of this host (its addresses: ${local.map((a) => a.ip).join(', ') || 'none'}); give one of them or an interface name`,
    );
  }
  let addresses;
  try {
    addresses = await netlink.addrList({ link: value, family: 'ipv4' });
  } catch (error) {
    if (error instanceof LinkNotFoundError) throw new ClusterConfigError(`--advertise-addr "${value}" is neither an IP address nor an interface of this host`);
    throw error;
  }
  const first = addresses[0];
  if (!first) throw new ClusterConfigError(`interface ${value} given as --advertise-addr has no IPv4 address; add one or give an IP address`);
  return first.ip;
}
