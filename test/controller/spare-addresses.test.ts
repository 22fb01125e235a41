// Spare addresses without root or etcd: the pure plan, the IPAM's spare records, and a host's
// spares over an in-memory cluster store that can be made unreachable.
import test, { type ExecutionContext } from 'ava';
import { GlobalNetworks } from '../../src/controller/global-networks';
import type { EndpointRecord } from '../../src/controller/endpoint-record';
import type { NetworkRecord } from '../../src/controller/network-record';
import { planSpares, SpareAddresses, SPARES_PER_POOL, takeSpare } from '../../src/controller/spare-addresses';
import { GLOBAL_SPACE, Ipam } from '../../src/ipam';
import { PoolInUseError } from '../../src/ipam/errors';
import { LocalStore } from '../../src/store';
import { SharedClusterStore, silent } from '../helpers/core';
import { until } from '../helpers/until';

const v4 = { poolId: 'GlobalDefault/10.0.0.0/24', v6: false };
const v6 = { poolId: 'GlobalDefault/fd00::/64', v6: true };

test('a spare is taken from a pool of the family asked for; none left: undefined', (t) => {
  const spares = [
    { poolId: v6.poolId, address: 'fd00::2/64' },
    { poolId: v4.poolId, address: '10.0.0.2/24' },
    { poolId: v4.poolId, address: '10.0.0.3/24' },
  ];
  const first = takeSpare(spares, [v4.poolId])!;
  t.deepEqual(first.taken, spares[1]);
  t.deepEqual(first.rest, [spares[0], spares[2]]);
  t.deepEqual(takeSpare(first.rest, [v6.poolId])!.taken, spares[0]);
  t.is(takeSpare([spares[0]!], [v4.poolId]), undefined);
});

test('plan: spares endpoints took are claimed, spares of nothing released, joins in flight left alone, pools topped up', (t) => {
  const a = (n: number): { poolId: string; address: string } => ({ poolId: v4.poolId, address: `10.0.0.${n}` });
  const plan = planSpares({
    poolIds: [v4.poolId, v6.poolId],
    // 2, 3 free; 4 an endpoint's; 5 in a join not recorded yet; 6 of nothing (a crash).
    inStore: [a(2), a(3), a(4), a(5), a(6)],
    local: [
      { poolId: v4.poolId, address: '10.0.0.2/24' },
      { poolId: v4.poolId, address: '10.0.0.3/24' },
      // Gone from etcd (its pool was made anew): dropped.
      { poolId: v4.poolId, address: '10.0.0.9/24' },
    ],
    held: [{ poolId: v4.poolId, address: '10.0.0.4/24' }],
    lent: new Set([`${v4.poolId} 10.0.0.5`]),
    target: 4,
  });
  t.deepEqual(plan.keep, [
    { poolId: v4.poolId, address: '10.0.0.2/24' },
    { poolId: v4.poolId, address: '10.0.0.3/24' },
  ]);
  t.deepEqual(plan.claim, [a(4)]);
  t.deepEqual(plan.release, [a(6)]);
  t.deepEqual([...plan.topUp], [
    [v4.poolId, 2],
    [v6.poolId, 4],
  ]);
});

interface Host {
  shared: SharedClusterStore;
  ipam: Ipam;
  local: LocalStore;
  spares: SpareAddresses;
  network: NetworkRecord;
  endpoints: EndpointRecord[];
}

async function host(t: ExecutionContext, shared = new SharedClusterStore(), local = new LocalStore(':memory:')): Promise<Host> {
  const ipam = await Ipam.open({ local, global: shared });
  t.teardown(async () => {
    await ipam.close();
    await local.close();
    await shared.close();
  });
  const pool = await ipam.requestPool({ addressSpace: GLOBAL_SPACE, pool: '10.0.0.0/24' }).catch(() => ({ poolId: v4.poolId, pool: '10.0.0.0/24' }));
  const network = { id: 'n'.repeat(64), name: 'ov', scope: 'global', ipam: { driver: 'default' }, allocations: [{ poolId: pool.poolId, addressSpace: GLOBAL_SPACE, v6: false, pool: pool.pool, auxAddresses: {} }] } as unknown as NetworkRecord;
  const endpoints: EndpointRecord[] = [];
  const spares = new SpareAddresses({ store: local, node: 'A', log: silent, ipamOf: () => ipam, endpointsOf: () => endpoints, storeReachable: () => !shared.unreachable });
  await spares.load();
  return { shared, ipam, local, spares, network, endpoints };
}

const records = async (shared: SharedClusterStore): Promise<Array<[string, unknown]>> =>
  (await shared.inner.list('ipam/GlobalDefault/addrs/')).map((e) => [e.key.slice(e.key.lastIndexOf('/') + 1), JSON.parse(e.value.toString('utf8'))]);

test('spares are the host\'s records in etcd, not endpoints: the pool is not in use, and they go with it', async (t) => {
  const { shared, ipam, spares, network } = await host(t);
  await spares.refresh(network);
  t.is(spares.of(network.id).length, SPARES_PER_POOL);
  t.deepEqual(await records(shared), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => [ip, { role: 'spare', name: 'A' }]));
  // Endpoints get other addresses, and the pool goes with its spares.
  t.is(await ipam.requestAddress(v4.poolId), '10.0.0.5/24');
  await t.throwsAsync(ipam.releasePool(v4.poolId), { instanceOf: PoolInUseError, message: /1/ });
  await ipam.releaseAddress(v4.poolId, '10.0.0.5');
  await ipam.releasePool(v4.poolId);
  t.deepEqual(await records(shared), []);
});

test('etcd down: a join takes a spare (kept over a restart) or gives it back; back: the spare becomes an endpoint record and the spares are topped up', async (t) => {
  const shared = new SharedClusterStore();
  const local = new LocalStore(':memory:');
  const first = await host(t, shared, local);
  await first.spares.refresh(first.network);
  shared.unreachable = true;
  // A daemon restarted meanwhile has the list from its local store.
  const { spares, network, endpoints } = await host(t, shared, local);
  t.deepEqual(spares.of(network.id), first.spares.of(network.id));
  const taken = await spares.take(network, false);
  t.deepEqual(taken, { poolId: v4.poolId, address: '10.0.0.1/24' });
  t.is(await spares.take(network, true), undefined, 'no IPv6 pool: no IPv6 spare');
  t.deepEqual(JSON.parse((await local.get(`spare-addresses/${network.id}`))!.value.toString('utf8')).spares.length, SPARES_PER_POOL - 1);
  // A join that failed gives its spare back.
  const failed = (await spares.take(network, false))!;
  await spares.giveBack(network, failed);
  t.is(spares.of(network.id).length, SPARES_PER_POOL - 1);
  endpoints.push({ id: 'e1', ipv4: taken } as EndpointRecord);
  await t.throwsAsync(spares.refresh(network), { message: /did not answer/ });
  shared.unreachable = false;
  await spares.refresh(network);
  const after = new Map(await records(shared));
  t.deepEqual(after.get('10.0.0.1'), { role: 'endpoint' });
  t.is([...after.values()].filter((r) => (r as { role: string }).role === 'spare').length, SPARES_PER_POOL);
  t.is(spares.of(network.id).length, SPARES_PER_POOL);
  t.false(spares.of(network.id).some((s) => s.address === '10.0.0.1/24'));
});

test('GlobalNetworks: etcd down, an endpoint on a network this host carries is entered and written by the catch-up; elsewhere refused', async (t) => {
  const shared = new SharedClusterStore();
  t.teardown(() => shared.close());
  const own: string[] = [];
  let caughtUp = 0;
  const global = new GlobalNetworks({ store: shared, node: 'A', log: silent, removed: () => undefined, ownEndpoints: () => own, caughtUp: async () => void caughtUp++ });
  t.teardown(() => global.close());
  const record = { id: 'c'.repeat(64), name: 'carried', driver: 'overlay', created: '', options: {}, labels: {}, ipam: { config: [] }, allocations: [] } as unknown as NetworkRecord;
  await global.claim(record);
  await global.start();
  shared.unreachable = true;
  await t.throwsAsync(global.enter(record.id, 'e0', false), { message: /^cannot connect to the global network carried: the cluster store is unreachable/ });
  own.push('e1');
  await global.enter(record.id, 'e1', true);
  const before = caughtUp;
  shared.unreachable = false;
  await until('the catch-up to write e1', async () => (await shared.get(`networks/${record.id}/hosts/A`))?.value.toString('utf8') === JSON.stringify({ endpoints: ['e1'] }), 15_000, 50);
  await until('the rest of the catch-up to run', () => caughtUp > before, 5_000, 50);
  t.pass();
});

test('dual-stack: spares of each pool, and a join with etcd down takes one of each family', async (t) => {
  const { shared, ipam, spares, network } = await host(t);
  const pool6 = await ipam.requestPool({ addressSpace: GLOBAL_SPACE, pool: 'fd00::/64' });
  network.allocations.push({ poolId: pool6.poolId, addressSpace: GLOBAL_SPACE, v6: true, pool: pool6.pool, auxAddresses: {} });
  await spares.refresh(network);
  t.is(spares.of(network.id).filter((s) => s.poolId === pool6.poolId).length, SPARES_PER_POOL);
  shared.unreachable = true;
  t.deepEqual(await spares.take(network, false), { poolId: v4.poolId, address: '10.0.0.1/24' });
  t.deepEqual(await spares.take(network, true), { poolId: v6.poolId, address: 'fd00::1/64' });
});
