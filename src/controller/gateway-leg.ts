// The way out for sandboxes whose networks offer none (overlays): as libnetwork's docker_gwbridge,
// a leg on a host-local bridge network, netctl_gwbridge, made on demand with its subnet from the
// local pools, NAT'd, its legs isolated from each other (ICC off). A sandbox has the leg while one
// of its endpoints needs a gateway and none offers one. Pure.
import type { GatewayCandidate } from './gateway-choice';

export const GATEWAY_NETWORK = 'netctl_gwbridge';
const LEG_PREFIX = 'gateway_';

/** The bridge options of netctl_gwbridge, Docker's for docker_gwbridge. */
export const GATEWAY_NETWORK_OPTIONS: Readonly<Record<string, string>> = {
  'com.docker.network.bridge.name': GATEWAY_NETWORK,
  'com.docker.network.bridge.enable_icc': 'false',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
};

/** The leg's endpoint name: "gateway_" and the sandbox's short ID, as Docker names it. */
export const gatewayLegName = (sandboxId: string): string => LEG_PREFIX + sandboxId.slice(0, 12);

/** What the decision needs to know of an endpoint besides its gateways. */
export interface LegCandidate extends GatewayCandidate {
  name: string;
  networkName: string;
  internal: boolean;
  /** Whether it has an interface (null and host endpoints have none and need no way out). */
  hasInterface: boolean;
}

export const isGatewayLeg = (endpoint: Pick<LegCandidate, 'name' | 'networkName'>): boolean => endpoint.networkName === GATEWAY_NETWORK && endpoint.name.startsWith(LEG_PREFIX);

/**
 * Docker's needDefaultGW: some endpoint (not the leg, not internal, not declining the gateway
 * service, with an interface) has no gateway, and no such endpoint has one.
 */
export function needsGatewayLeg(endpoints: readonly LegCandidate[]): boolean {
  const wanting = endpoints.filter((e) => !isGatewayLeg(e) && e.hasInterface && !e.internal && !e.noGatewayService);
  return wanting.length > 0 && wanting.every((e) => e.gateway4 === undefined && e.gateway6 === undefined);
}
