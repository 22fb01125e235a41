// How the macvlan driver reads the kernel's refusals while making a VLAN parent, over a netlink
// handle that answers as a kernel with 802.1q would (this machine's kernel has none).
import test from 'ava';
import { InvalidOptionError, type NetworkSpec } from '../../src/drivers/driver';
import { parseMacvlanOptions } from '../../src/drivers/macvlan/options';
import { ensureParent, planParent } from '../../src/drivers/macvlan/parent';
import { type Link, type NetlinkHandle, NetlinkError } from '../../src/netlink';

const ENODEV = 19;
const EEXIST = 17;

const link = (fields: Partial<Link> & Pick<Link, 'index' | 'name'>): Link => ({
  kind: '', mtu: 1500, mac: '02:00:00:00:00:01', up: true, flags: 0, operstate: 'up', masterIndex: undefined, parentIndex: undefined, linkNetnsId: undefined, alias: undefined, group: 0, ...fields,
});

/** A host with eth0 whose VLAN 10 exists already as eth0.10. */
function kernelWithVlan10(): NetlinkHandle {
  const links = [link({ index: 2, name: 'eth0' }), link({ index: 5, name: 'eth0.10', kind: 'vlan', parentIndex: 2, vlan: { vlanId: 10 } })];
  return {
    linkGet: async (name: string) => {
      const found = links.find((l) => l.name === name);
      if (!found) throw new NetlinkError(ENODEV, 'getting link', `"${name}"`);
      return found;
    },
    linkList: async () => links,
    linkAdd: async () => {
      throw new NetlinkError(EEXIST, 'creating link', '"eth0.010"');
    },
  } as unknown as NetlinkHandle;
}

test('a VLAN the base carries already under another name: the create says which interface to use', async (t) => {
  const spec: NetworkSpec = { id: 'c'.repeat(64), name: 'v10', options: { parent: 'eth0.010' }, internal: false, enableIPv6: false, ipv4: [], ipv6: [] };
  const plan = planParent(spec, parseMacvlanOptions(spec.options));
  t.like(plan, { kind: 'vlan', base: 'eth0', vlanId: 10 });
  const error = await t.throwsAsync(ensureParent(kernelWithVlan10(), plan), { instanceOf: InvalidOptionError });
  t.is(error?.message, 'cannot create VLAN sub-interface "eth0.010": VLAN 10 on "eth0" exists already as "eth0.10" (the kernel allows one interface per VLAN ID); use -o parent=eth0.10');
});
