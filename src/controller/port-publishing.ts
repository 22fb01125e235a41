// Ports a sandbox publishes on the host: programmed through one of its endpoints by that
// endpoint's driver, and recorded with the endpoint so a restart renders them again.
import type { Driver, EndpointSpec, PortMapping } from '../drivers/driver';
import { crashPoint } from '../util/crash-point';
import { defaultRouteCarrier } from './gateway-choice';
import type { EndpointRecord } from './endpoint-record';
import { type NetworkRecord, specOf } from './network-record';

export interface PortPublishingDeps {
  networkOf(endpoint: EndpointRecord): NetworkRecord;
  driverOf(network: NetworkRecord): Driver;
  endpointSpec(endpoint: EndpointRecord): EndpointSpec;
  save(endpoint: EndpointRecord): Promise<void>;
}

/** The endpoint that publishes a sandbox's ports: the one carrying its IPv4 default route, else the first connected. */
export const portCarrier = (endpoints: readonly EndpointRecord[]): EndpointRecord | undefined => defaultRouteCarrier(endpoints, 'ipv4') ?? endpoints[0];

/** Publishes `ports` through `endpoint`, replacing what it published; resolves with them as published. */
export async function programPorts(deps: PortPublishingDeps, endpoint: EndpointRecord, ports: readonly PortMapping[]): Promise<PortMapping[]> {
  const network = deps.networkOf(endpoint);
  const resolved = await deps.driverOf(network).programExternalConnectivity(specOf(network), deps.endpointSpec(endpoint), ports);
  crashPoint('publish:rules-applied');
  if (resolved.length > 0) endpoint.ports = resolved;
  else delete endpoint.ports;
  await deps.save(endpoint);
  return resolved;
}

/** Withdraws what `endpoint` published, if anything. */
export async function revokePorts(deps: PortPublishingDeps, endpoint: EndpointRecord): Promise<void> {
  if (!endpoint.ports?.length) return;
  const network = deps.networkOf(endpoint);
  await deps.driverOf(network).revokeExternalConnectivity(specOf(network), deps.endpointSpec(endpoint));
  crashPoint('publish:rules-applied');
  delete endpoint.ports;
  await deps.save(endpoint);
}
