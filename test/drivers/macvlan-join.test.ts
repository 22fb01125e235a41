// The macvlan driver's reading of kernel errors at join, over a netlink handle that answers as a
// kernel without the feature would (this machine's kernel has macvlan, so only this can show it).
import test from 'ava';
import pino from 'pino';
import type { EndpointSpec, NetworkSpec } from '../../src/drivers/driver';
import { MissingKernelFeatureError } from '../../src/drivers/driver';
import { MacvlanDriver } from '../../src/drivers/macvlan/macvlan-driver';
import { type NetlinkHandle, NetlinkError } from '../../src/netlink';

const EOPNOTSUPP = 95;
const network: NetworkSpec = { id: 'a'.repeat(64), name: 'lan', options: { parent: 'up0' }, internal: false, enableIPv6: false, ipv4: [{ addressSpace: 'LocalDefault', pool: '10.70.0.0/24', gateway: '10.70.0.1/24', auxAddresses: {} }], ipv6: [] };
const endpoint: EndpointSpec = { id: 'b'.repeat(64), networkId: network.id, mac: '02:42:0a:46:00:02', ipv4: '10.70.0.2/24' };

test('a kernel without macvlan: the join names the missing feature and how to get it', async (t) => {
  const kernelWithoutMacvlan = {
    linkAddInNamespace: async () => {
      throw new NetlinkError(EOPNOTSUPP, 'creating link', '"eth0" in another namespace');
    },
  } as unknown as NetlinkHandle;
  const driver = new MacvlanDriver({ netlink: kernelWithoutMacvlan, log: pino({ level: 'silent' }) });
  const error = await t.throwsAsync(driver.join(network, endpoint, { sandboxKey: '/run/netns/x', ifname: 'eth0' }), { instanceOf: MissingKernelFeatureError });
  t.is(error?.feature, 'macvlan');
  t.regex(error?.message ?? '', /cannot create the macvlan interface of network "lan": the kernel has no macvlan support \(CONFIG_MACVLAN, module macvlan\); load it \("modprobe macvlan"\)/);
});
