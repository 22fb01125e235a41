// Named points between the durable steps of netctl's transactions. A test arms one with
// NETCTL_TEST_CRASH_AT=<name> and the daemon kills itself (SIGKILL) the first time it gets there,
// so a restart can be checked against every state a real crash could leave. Unarmed, a point
// costs one string comparison.

/** Every point, in the order of the transactions they belong to; the crash test walks this list. */
export const CRASH_POINTS = [
  // network create: pools, driver objects, record
  'network-create:pools-allocated',
  'bridge-create:bridge-made',
  'bridge-create:gateway-added',
  'bridge-create:rules-applied',
  'macvlan-create:parent-made',
  'network-create:driver-done',
  // network rm: driver objects, record, pools
  'network-delete:driver-done',
  'network-delete:record-deleted',
  // sandbox create / delete
  'sandbox-create:namespace-made',
  'sandbox-delete:endpoints-gone',
  'sandbox-delete:namespace-gone',
  // connect: addresses, interface, record
  'connect:addresses-allocated',
  'bridge-join:veth-made',
  'connect:joined',
  'connect:configured',
  // disconnect: interface, record, addresses
  'disconnect:left',
  'disconnect:record-deleted',
  // publish: rules, record
  'publish:rules-applied',
  // container create / start / rm
  'container-create:state-dir-made',
  'container-start:networked',
  'container-start:ports-published',
  'container-start:shim-started',
  'container-rm:process-gone',
  'container-rm:record-deleted',
  // image import / rm: extracted and described in scratch, renamed into place, the older image untagged; renamed away, deleted
  'image-import:described',
  'image-import:in-place',
  'image-rm:renamed-away',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = process.env['NETCTL_TEST_CRASH_AT'];

export function crashPoint(name: CrashPoint): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}
