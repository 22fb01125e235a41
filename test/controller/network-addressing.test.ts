// A network's pools, gateways and aux addresses as one step of its creation: what is asked of
// the IPAM, the refusals before it is asked, subnets another network has (made or being made),
// and the rollback. Over the default and the null IPAM on an in-memory store, without root.
import test from 'ava';
import { ForbiddenError, InvalidParameterError } from '../../src/controller/errors';
import { configOf, NetworkAddressing } from '../../src/controller/network-addressing';
import type { NetworkRecord } from '../../src/controller/network-record';
import { Ipam, LOCAL_SPACE, NullIpam } from '../../src/ipam';
import { LocalStore } from '../../src/store/sqlite';
import { Rollback } from '../../src/util/rollback';

interface Fixture {
  ipam: Ipam;
  addressing: NetworkAddressing;
  /** The networks made so far, as the controller would list them. */
  made: NetworkRecord[];
  /** How often the host's routes were read. */
  routeReads: () => number;
}

async function setup(t: { teardown(fn: () => Promise<void>): void }, hostRoutes: string[] = []): Promise<Fixture> {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: store });
  const made: NetworkRecord[] = [];
  let reads = 0;
  const addressing = new NetworkAddressing({
    networks: () => made,
    hostRoutes: async () => {
      reads++;
      return hostRoutes;
    },
  });
  return { ipam, addressing, made, routeReads: () => reads };
}

const record = (name: string, enableIPv6 = false): NetworkRecord => ({ id: name.padEnd(64, '0'), name, driver: 'scripted', scope: 'local', created: '', internal: false, attachable: false, enableIPv6, predefined: false, options: {}, labels: {}, ipam: { driver: 'default', options: {}, config: [] }, allocations: [] });

async function make(f: Fixture, name: string, config: Parameters<NetworkAddressing['allocate']>[1], enableIPv6 = false): Promise<NetworkRecord> {
  const network = record(name, enableIPv6);
  network.allocations = await f.addressing.allocate(network, config, f.ipam, new Rollback());
  f.addressing.settled(name);
  f.made.push(network);
  return network;
}

test('given subnets get their gateway and aux addresses; inspect shows them without prefix lengths', async (t) => {
  const f = await setup(t);
  const network = await make(f, 'n1', [{ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/24', gateway: '10.1.0.254', auxAddresses: { router: '10.1.0.253' } }, { subnet: 'fd00:1::/64' }], true);
  t.like(network.allocations, [
    { addressSpace: LOCAL_SPACE, v6: false, pool: '10.1.0.0/16', ipRange: '10.1.5.0/24', gateway: '10.1.0.254/16', auxAddresses: { router: '10.1.0.253/16' } },
    { v6: true, pool: 'fd00:1::/64', gateway: 'fd00:1::1/64', auxAddresses: {} },
  ]);
  t.deepEqual(network.allocations.map(configOf), [
    { subnet: '10.1.0.0/16', ipRange: '10.1.5.0/24', gateway: '10.1.0.254', auxAddresses: { router: '10.1.0.253' } },
    { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' },
  ]);
  t.is(f.routeReads(), 0, "given subnets need no look at the host's routes");
});

test("without an IPv4 subnet the network gets a default pool clear of the host's routes", async (t) => {
  const f = await setup(t, ['172.17.0.0/16']);
  const network = await make(f, 'n1', []);
  t.like(network.allocations, [{ v6: false, pool: '172.18.0.0/16', gateway: '172.18.0.1/16' }]);
  t.is(f.routeReads(), 1);
  const v6Only = await make(f, 'n2', [{ subnet: 'fd00:2::/64' }], true);
  t.deepEqual(v6Only.allocations.map((a) => [a.v6, a.pool]), [[false, '172.19.0.0/16'], [true, 'fd00:2::/64']], 'an IPv6 subnet alone still gets its IPv4 pool, first');
});

test('requests the IPAM must not see are refused before it is asked', async (t) => {
  const f = await setup(t);
  for (const [config, enableIPv6, message] of [
    [[{ subnet: 'fd00::/64' }], false, 'IPv6 subnet fd00::/64 given but IPv6 is not enabled on the network: add --ipv6 (EnableIPv6)'],
    [[{ subnet: '10.1.0.0/24' }, { gateway: 'fd00::1' }], false, 'IPv6 gateway fd00::1 given but IPv6 is not enabled on the network: add --ipv6 (EnableIPv6)'],
    [[{ gateway: '10.1.0.1' }], false, 'an IPAM config with a gateway, IP range or aux addresses needs its subnet'],
    [[{ ipRange: '10.1.0.0/25' }], false, 'an IPAM config with a gateway, IP range or aux addresses needs its subnet'],
    [[{ subnet: '127.0.0.0/16' }], false, 'subnet 127.0.0.0/16 reaches into the IPv4 loopback range (127.0.0.0/8), which no network can use; choose a private range such as 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8'],
    [[{ subnet: '10.1.0.0/24' }, { subnet: 'fe80::/64' }], true, 'subnet fe80::/64 reaches into the IPv6 link-local range (fe80::/10), which no network can use; choose a private range such as 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8'],
  ] as const) {
    await t.throwsAsync(f.addressing.allocate(record('n1', enableIPv6), config as never, f.ipam, new Rollback()), { instanceOf: InvalidParameterError, message });
  }
  t.deepEqual(f.ipam.poolIds(LOCAL_SPACE), []);
});

test("a subnet another network has is refused with Docker's words, which network and what to do", async (t) => {
  const f = await setup(t);
  await make(f, 'taken', [{ subnet: '10.1.0.0/24' }]);
  await t.throwsAsync(make(f, 'n2', [{ subnet: '10.1.0.0/24' }]), {
    instanceOf: ForbiddenError,
    message: "Pool overlaps with other one on this address space: subnet 10.1.0.0/24 is network taken's; choose another subnet, or connect the containers to taken",
  });
  await t.throwsAsync(make(f, 'n2', [{ subnet: '10.1.0.0/16' }]), {
    instanceOf: ForbiddenError,
    message: 'Pool overlaps with other one on this address space: subnet 10.1.0.0/16 overlaps 10.1.0.0/24 of network taken; choose a subnet that does not overlap',
  });
  await t.throwsAsync(make(f, 'n2', [{ subnet: '10.2.0.0/24' }, { subnet: '10.2.0.0/24' }]), { instanceOf: InvalidParameterError, message: 'subnet 10.2.0.0/24 is given twice; give it once' });
  await t.throwsAsync(make(f, 'n2', [{ subnet: '10.3.0.0/16' }, { subnet: '10.3.1.0/24' }]), { instanceOf: InvalidParameterError, message: 'subnets 10.3.0.0/16 and 10.3.1.0/24 overlap; give the network subnets that do not' });
});

test('two networks created at the same moment cannot both take a subnet; a settled creation frees its claim', async (t) => {
  const f = await setup(t);
  const rollback = new Rollback();
  await f.addressing.allocate(record('first'), [{ subnet: '10.5.0.0/24' }], f.ipam, rollback);
  await t.throwsAsync(f.addressing.allocate(record('second'), [{ subnet: '10.5.0.0/24' }], f.ipam, new Rollback()), {
    instanceOf: ForbiddenError,
    message: "Pool overlaps with other one on this address space: subnet 10.5.0.0/24 is network first's; choose another subnet, or connect the containers to first",
  });
  // The first creation fails and rolls back: the subnet is free again.
  await rollback.run();
  f.addressing.settled('first');
  t.deepEqual(f.ipam.poolIds(LOCAL_SPACE), []);
  const second = await make(f, 'second', [{ subnet: '10.5.0.0/24' }]);
  t.is(second.allocations[0]!.pool, '10.5.0.0/24');
});

test("the rollback releases every pool and address a failed allocation took", async (t) => {
  const f = await setup(t);
  await make(f, 'taken', [{ subnet: '10.9.0.0/24' }]);
  const before = f.ipam.poolIds(LOCAL_SPACE);
  const rollback = new Rollback();
  await t.throwsAsync(f.addressing.allocate(record('n1', true), [{ subnet: '10.8.0.0/24' }, { subnet: 'fd00:8::/64' }, { subnet: '10.9.0.0/24' }], f.ipam, rollback), { instanceOf: ForbiddenError });
  t.is(f.ipam.poolIds(LOCAL_SPACE).length, before.length + 2, 'two pools were taken before the refusal');
  t.deepEqual(await rollback.run(), []);
  t.deepEqual(f.ipam.poolIds(LOCAL_SPACE), before);
});

test("the null IPAM's pool of everything is no network's; it hands out no gateway and takes no aux address", async (t) => {
  const f = await setup(t);
  const nullIpam = new NullIpam();
  const a = record('a');
  a.allocations = await f.addressing.allocate(a, [], nullIpam, new Rollback());
  f.made.push(a);
  const b = record('b', true);
  b.allocations = await f.addressing.allocate(b, [], nullIpam, new Rollback());
  t.deepEqual(b.allocations.map(configOf), [{ subnet: '0.0.0.0/0' }, { subnet: '::/0' }]);
  await t.throwsAsync(f.addressing.allocate(record('c'), [{ subnet: '10.1.0.0/24', auxAddresses: { router: '10.1.0.2' } }], nullIpam, new Rollback()), {
    instanceOf: InvalidParameterError,
    message: 'aux address "router" needs an IPAM driver that hands out addresses; IPAM driver "null" gives none',
  });
});
