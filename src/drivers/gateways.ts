// The default-route gateways a network offers its endpoints: the IPAM gateway of each family the
// endpoint has an address in; none on internal networks, which have no way out.
import { addressOf } from '../ip/address';
import type { EndpointSpec, JoinInfo, NetworkSpec } from './driver';

export function gatewaysFor(network: NetworkSpec, endpoint: EndpointSpec): JoinInfo {
  if (network.internal) return {};
  const gateway4 = endpoint.ipv4 ? network.ipv4.find((d) => d.gateway !== undefined)?.gateway : undefined;
  const gateway6 = endpoint.ipv6 ? network.ipv6.find((d) => d.gateway !== undefined)?.gateway : undefined;
  return { ...(gateway4 ? { gateway4: addressOf(gateway4) } : {}), ...(gateway6 ? { gateway6: addressOf(gateway6) } : {}) };
}
