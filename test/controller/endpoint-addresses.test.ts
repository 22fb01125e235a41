// An endpoint's addresses: asked of the network's IPAM (the pool that holds a static address,
// else the first with room), merged with what the driver proposes (only what the IPAM left
// empty; a contradiction is refused), and made to agree with the IPAM after a crash. Over the
// default IPAM on an in-memory store, without root.
import test from 'ava';
import { acceptProposal, allocateAddress, reconcileAddresses } from '../../src/controller/endpoint-addresses';
import type { EndpointRecord } from '../../src/controller/endpoint-record';
import { ForbiddenError, InvalidParameterError } from '../../src/controller/errors';
import type { NetworkRecord, PoolAllocation } from '../../src/controller/network-record';
import { AddressInUseError, Ipam, LOCAL_SPACE, NullIpam } from '../../src/ipam';
import { LocalStore } from '../../src/store/sqlite';
import { Rollback } from '../../src/util/rollback';
import { silent } from '../helpers/core';

async function openIpam(t: { teardown(fn: () => Promise<void>): void }): Promise<Ipam> {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  return Ipam.open({ local: store });
}

async function networkWith(ipam: Ipam, subnets: string[]): Promise<NetworkRecord> {
  const allocations: PoolAllocation[] = [];
  for (const subnet of subnets) {
    const v6 = subnet.includes(':');
    const { poolId, pool } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: subnet, v6 });
    allocations.push({ poolId, addressSpace: LOCAL_SPACE, v6, pool, auxAddresses: {} });
  }
  return { id: 'n'.repeat(64), name: 'n1', driver: 'scripted', scope: 'local', created: '', internal: false, attachable: false, enableIPv6: true, predefined: false, options: {}, labels: {}, ipam: { driver: 'default', options: {}, config: [] }, allocations };
}

const endpoint = (fields: Partial<EndpointRecord> = {}): EndpointRecord => ({ id: 'e'.repeat(64), name: 'e', networkId: 'n'.repeat(64), sandboxId: 's', ifname: '', mac: '', aliases: [], created: '', ...fields });

const dualStack = { name: 'n1', enableIPv6: true };

test('the next free address of the first pool, released by the rollback', async (t) => {
  const ipam = await openIpam(t);
  const network = await networkWith(ipam, ['10.1.0.0/24', '10.2.0.0/24']);
  const rollback = new Rollback();
  const first = await allocateAddress(ipam, network, false, undefined, rollback);
  t.deepEqual(first, { poolId: network.allocations[0]!.poolId, address: '10.1.0.1/24' });
  t.deepEqual(await ipam.endpointAddresses(first!.poolId), ['10.1.0.1']);
  t.deepEqual(await rollback.run(), []);
  t.deepEqual(await ipam.endpointAddresses(first!.poolId), []);
});

test('a static address comes from the pool that holds it; one outside every pool is refused', async (t) => {
  const ipam = await openIpam(t);
  const network = await networkWith(ipam, ['10.1.0.0/24', '10.2.0.0/24', 'fd00:1::/64']);
  const rollback = new Rollback();
  t.deepEqual(await allocateAddress(ipam, network, false, '10.2.0.9', rollback), { poolId: network.allocations[1]!.poolId, address: '10.2.0.9/24' });
  t.deepEqual(await allocateAddress(ipam, network, true, 'fd00:1::9', rollback), { poolId: network.allocations[2]!.poolId, address: 'fd00:1::9/64' });
  await t.throwsAsync(allocateAddress(ipam, network, false, '10.3.0.9', rollback), {
    instanceOf: InvalidParameterError,
    message: "invalid address 10.3.0.9: it does not belong to any of network n1's subnets (10.1.0.0/24, 10.2.0.0/24)",
  });
  // A static address that is taken is refused as such, not looked for in another pool.
  await t.throwsAsync(allocateAddress(ipam, network, false, '10.2.0.9', rollback), { instanceOf: AddressInUseError });
});

test('a full pool passes the request to the next one', async (t) => {
  const ipam = await openIpam(t);
  const network = await networkWith(ipam, ['10.1.0.0/30', '10.2.0.0/30']);
  const rollback = new Rollback();
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await allocateAddress(ipam, network, false, undefined, rollback))!.address);
  t.deepEqual(got.sort(), ['10.1.0.1/30', '10.1.0.2/30', '10.2.0.1/30']);
  await rollback.run();
  for (const allocation of network.allocations) t.deepEqual(await ipam.endpointAddresses(allocation.poolId), []);
});

test('no address: a network without a pool of the family, or an IPAM that hands out none', async (t) => {
  const ipam = await openIpam(t);
  const network = await networkWith(ipam, ['10.1.0.0/24']);
  const rollback = new Rollback();
  t.is(await allocateAddress(ipam, network, true, undefined, rollback), undefined);
  const nullIpam = new NullIpam();
  const { poolId, pool } = await nullIpam.requestPool({ addressSpace: 'null' });
  const nullNetwork = { ...network, allocations: [{ poolId, addressSpace: 'null', v6: false, pool, auxAddresses: {} }] };
  t.is(await allocateAddress(nullIpam, nullNetwork, false, undefined, rollback), undefined);
  t.is(await allocateAddress(nullIpam, nullNetwork, false, '10.9.9.9', rollback), undefined);
});

test('after a crash the IPAM holds exactly the endpoints’ addresses', async (t) => {
  const ipam = await openIpam(t);
  const network = await networkWith(ipam, ['10.1.0.0/24']);
  const poolId = network.allocations[0]!.poolId;
  const rollback = new Rollback();
  const held = (await allocateAddress(ipam, network, false, '10.1.0.5', rollback))!;
  await allocateAddress(ipam, network, false, '10.1.0.6', rollback); // of no endpoint: a crash before the record
  const lost = { poolId, address: '10.1.0.7/24' }; // the IPAM released it, the endpoint still holds it
  await reconcileAddresses([endpoint({ ipv4: held }), endpoint({ id: 'f'.repeat(64), ipv4: lost })], [network], () => ipam, silent);
  t.deepEqual((await ipam.endpointAddresses(poolId)).sort(), ['10.1.0.5', '10.1.0.7']);
});

test('a driver fills what the IPAM and the request left empty', (t) => {
  const record = endpoint();
  acceptProposal(record, { ipv4: '192.0.2.5/24', ipv6: '2001:db8::5/64', mac: '0A:00:00:00:00:05' }, 'scripted', dualStack);
  t.like(record, { ipv4: { poolId: '', address: '192.0.2.5/24' }, ipv6: { poolId: '', address: '2001:db8::5/64' }, mac: '0a:00:00:00:00:05' });
  const untouched = endpoint({ ipv4: { poolId: 'p', address: '10.1.0.2/24' } });
  acceptProposal(untouched, {}, 'scripted', dualStack);
  t.deepEqual(untouched, endpoint({ ipv4: { poolId: 'p', address: '10.1.0.2/24' } }), 'no proposal, nothing changes');
});

test('what the IPAM gave or the request asked for stays; a driver repeating it is fine, contradicting it is refused', (t) => {
  const given = (): EndpointRecord => endpoint({ ipv4: { poolId: 'p4', address: '10.1.0.2/24' }, ipv6: { poolId: 'p6', address: 'fd00::2/64' }, mac: '02:42:0a:01:00:02' });
  const same = given();
  acceptProposal(same, { ipv4: '10.1.0.2/24', ipv6: 'fd00:0::2/64', mac: '02:42:0A:01:00:02' }, 'scripted', dualStack);
  t.deepEqual(same, given(), 'the IPAM’s address keeps its pool, for its release');
  t.throws(() => acceptProposal(given(), { ipv4: '10.1.0.3/24' }, 'scripted', dualStack), {
    instanceOf: ForbiddenError,
    message: 'driver "scripted" proposed the IPv4 address 10.1.0.3/24 for an endpoint that has 10.1.0.2/24 from the IPAM: a driver may only fill what the IPAM left empty',
  });
  t.throws(() => acceptProposal(given(), { ipv4: '10.1.0.2/16' }, 'scripted', dualStack), { instanceOf: ForbiddenError }, 'another prefix length is another address');
  t.throws(() => acceptProposal(given(), { ipv6: 'fd00::3/64' }, 'scripted', dualStack), { instanceOf: ForbiddenError });
  t.throws(() => acceptProposal(given(), { mac: '02:42:0a:01:00:03' }, 'scripted', dualStack), {
    instanceOf: ForbiddenError,
    message: 'driver "scripted" proposed the MAC address 02:42:0a:01:00:03 for an endpoint that has 02:42:0a:01:00:02 from the request: a driver may only fill what the request left empty',
  });
  const unchanged = given();
  t.throws(() => acceptProposal(unchanged, { ipv6: '2001:db8::1/64', ipv4: '10.1.0.2/24', mac: 'ff' }, 'scripted', dualStack));
  t.deepEqual(unchanged, given(), 'a refused proposal changes nothing');
});

test("a proposal that is no address of its family, or no MAC, is the driver's error", (t) => {
  for (const [proposal, message] of [
    [{ ipv4: '192.0.2.5' }, 'driver "scripted" proposed "192.0.2.5" as the endpoint\'s IPv4 address: give an IPv4 address in CIDR form, such as 10.0.0.5/24'],
    [{ ipv4: '2001:db8::5/64' }, 'driver "scripted" proposed "2001:db8::5/64" as the endpoint\'s IPv4 address: give an IPv4 address in CIDR form, such as 10.0.0.5/24'],
    [{ ipv6: '192.0.2.5/24' }, 'driver "scripted" proposed "192.0.2.5/24" as the endpoint\'s IPv6 address: give an IPv6 address in CIDR form, such as fd00::5/64'],
    [{ ipv4: '192.0.2.5/33' }, 'driver "scripted" proposed "192.0.2.5/33" as the endpoint\'s IPv4 address: give an IPv4 address in CIDR form, such as 10.0.0.5/24'],
    [{ mac: '02:42:0a' }, 'driver "scripted" proposed "02:42:0a" as the endpoint\'s MAC address: give six hex pairs like 02:42:ac:11:00:02'],
  ] as const) {
    const record = endpoint();
    t.throws(() => acceptProposal(record, proposal, 'scripted', dualStack), { message });
    t.deepEqual(record, endpoint());
  }
});

test('a proposed IPv6 address on a network without IPv6 is refused and changes nothing', (t) => {
  const record = endpoint();
  t.throws(() => acceptProposal(record, { ipv4: '192.0.2.5/24', ipv6: '2001:db8::5/64' }, 'scripted', { name: 'v4only', enableIPv6: false }), {
    instanceOf: ForbiddenError,
    message: 'driver "scripted" proposed the IPv6 address 2001:db8::5/64 for an endpoint of network v4only, which has no IPv6 (created without --ipv6)',
  });
  t.is(record.ipv4, undefined);
});
