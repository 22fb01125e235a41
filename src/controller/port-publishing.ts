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

/**
 * Publishes `ports` through `endpoint`, replacing what it published; resolves with them as
 * published. The record keeps them even when the driver resolved none (a driver without port
 * details): what it programmed must still be revoked.
 */
export async function programPorts(deps: PortPublishingDeps, endpoint: EndpointRecord, ports: readonly PortMapping[]): Promise<PortMapping[]> {
  const network = deps.networkOf(endpoint);
  const driver = deps.driverOf(network);
  const resolved = await driver.programExternalConnectivity(specOf(network), deps.endpointSpec(endpoint), ports);
  crashPoint('publish:rules-applied');
  endpoint.ports = resolved;
  try {
    await deps.save(endpoint);
  } catch (error) {
    // The store has the endpoint without these ports, so the kernel must not keep them; if the
    // revoke fails too, the record in memory keeps them for the disconnect to revoke.
    await driver.revokeExternalConnectivity(specOf(network), deps.endpointSpec(endpoint)).then(
      () => delete endpoint.ports,
      () => undefined,
    );
    throw error;
  }
  return resolved;
}

/** Withdraws what `endpoint` published, if anything. */
export async function revokePorts(deps: PortPublishingDeps, endpoint: EndpointRecord): Promise<void> {
  if (!endpoint.ports) return;
  const network = deps.networkOf(endpoint);
  await deps.driverOf(network).revokeExternalConnectivity(specOf(network), deps.endpointSpec(endpoint));
  crashPoint('publish:rules-applied');
  delete endpoint.ports;
  await deps.save(endpoint);
}
