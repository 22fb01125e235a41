// Which endpoint of a sandbox carries its default route, per family: the first connected whose
// network offers a gateway of that family and that did not decline the gateway service. Pure.
import type { Family } from '../sandbox';

/** What the choice needs to know of an endpoint. */
export interface GatewayCandidate {
  gateway4?: string;
  gateway6?: string;
  /** The driver said this endpoint never carries the default route (JoinInfo.disableGatewayService). */
  noGatewayService?: boolean;
}

const gatewayOf = (candidate: GatewayCandidate, family: Family): string | undefined => (candidate.noGatewayService ? undefined : family === 'ipv4' ? candidate.gateway4 : candidate.gateway6);

/** The carrier of each family among endpoints in connect order. */
export function defaultRouteCarrier<T extends GatewayCandidate>(endpoints: readonly T[], family: Family): T | undefined {
  return endpoints.find((e) => gatewayOf(e, family) !== undefined);
}

/**
 * The default routes to set when the sandbox's endpoints (in connect order) went from `before`
 * to `after`: for each family whose carrier changed to another endpoint, that endpoint's
 * gateway. A carrier that left takes its route with its interface, so nothing needs deleting.
 */
export function defaultRouteChanges<T extends GatewayCandidate>(before: readonly T[], after: readonly T[]): Partial<Record<Family, string>> {
  const changes: Partial<Record<Family, string>> = {};
  for (const family of ['ipv4', 'ipv6'] as const) {
    const carrier = defaultRouteCarrier(after, family);
    if (carrier && carrier !== defaultRouteCarrier(before, family)) changes[family] = gatewayOf(carrier, family)!;
  }
  return changes;
}
