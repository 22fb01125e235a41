// The kernel side of a scripted driver (test/helpers/scripted-driver.ts) in a test host: joins
// that hand the core an interface made in the test host (a veth end, or a macvlan that lives only
// where it is moved), or make one in place in the sandbox, and leaves that take it away. Joins
// offer the network's gateways, plus whatever `extra` adds (routes, table entries...).
import type { EndpointSpec, JoinInfo, NetworkSpec } from '../../src/drivers/driver';
import { gatewaysFor } from '../../src/drivers/gateways';
import { LinkNotFoundError, NetlinkHandle } from '../../src/netlink';
import type { DriverScript } from '../../test/helpers/scripted-driver';

export type ExtraJoinInfo = (network: NetworkSpec, endpoint: EndpointSpec) => Partial<JoinInfo>;

const ignoreGone = (error: unknown): void => {
  if (!(error instanceof LinkNotFoundError) && (error as { code?: string }).code !== 'ENODEV') throw error;
};

/** Names in the test host of an endpoint's interfaces: the one handed over, and a veth's peer left behind. */
export const handedOver = (endpoint: Pick<EndpointSpec, 'id'>): string => `sv${endpoint.id.slice(0, 10)}`;
export const hostPeer = (endpoint: Pick<EndpointSpec, 'id'>): string => `sp${endpoint.id.slice(0, 10)}`;

/** Deletes the endpoint's interface in its sandbox, where the core says it is. */
async function deleteInSandbox(endpoint: EndpointSpec): Promise<void> {
  if (!endpoint.sandbox?.ifname) return;
  const inside = NetlinkHandle.open({ netns: endpoint.sandbox.sandboxKey });
  try {
    await inside.linkDel(endpoint.sandbox.ifname).catch(ignoreGone);
  } finally {
    inside.close();
  }
}

/**
 * A veth pair in the test host, one end handed over as `{srcName, dstPrefix}`; the leave deletes
 * the end left in the host, which takes the moved one with it (as remote plugins do).
 */
export function vethHandOver(host: NetlinkHandle, dstPrefix: string, extra: ExtraJoinInfo = () => ({})): Pick<DriverScript, 'join' | 'leave'> {
  return {
    join: async (network, endpoint) => {
      await host.linkAdd({ kind: 'veth', name: hostPeer(endpoint), up: true, peer: { name: handedOver(endpoint) } });
      return { ...gatewaysFor(network, endpoint), ...extra(network, endpoint), interface: { srcName: handedOver(endpoint), dstPrefix } };
    },
    leave: async (_network, endpoint) => {
      await host.linkDel(hostPeer(endpoint)).catch(ignoreGone);
    },
  };
}

/**
 * A macvlan on `parent` in the test host, handed over: once moved it exists only in the sandbox
 * (as what a macvlan plugin hands over), so the leave looks for it there.
 */
export function macvlanHandOver(host: NetlinkHandle, parent: string, dstPrefix: string, extra: ExtraJoinInfo = () => ({})): Pick<DriverScript, 'join' | 'leave'> {
  return {
    join: async (network, endpoint) => {
      await host.linkAdd({ kind: 'macvlan', name: handedOver(endpoint), parent, mode: 'bridge' });
      return { ...gatewaysFor(network, endpoint), ...extra(network, endpoint), interface: { srcName: handedOver(endpoint), dstPrefix } };
    },
    leave: async (_network, endpoint) => {
      await host.linkDel(handedOver(endpoint)).catch(ignoreGone);
      await deleteInSandbox(endpoint);
    },
  };
}

/**
 * Made in place, as the bridge driver does: a veth pair whose sandbox end is born there as the
 * core named it, with the endpoint's MAC; the leave deletes the end in the test host.
 */
export function vethInSandbox(host: NetlinkHandle, extra: ExtraJoinInfo = () => ({})): Pick<DriverScript, 'join' | 'leave'> {
  return {
    join: async (network, endpoint, target) => {
      await host.linkAdd({ kind: 'veth', name: hostPeer(endpoint), up: true, peer: { name: target.ifname, netns: target.sandboxFd ?? target.sandboxKey, mac: endpoint.mac } });
      return { ...gatewaysFor(network, endpoint), ...extra(network, endpoint), interface: { inSandbox: true } };
    },
    leave: async (_network, endpoint) => {
      await host.linkDel(hostPeer(endpoint)).catch(ignoreGone);
    },
  };
}
