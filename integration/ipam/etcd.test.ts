// The global space on a real etcd shared by several allocator processes.
import test from 'ava';
import { GLOBAL_SPACE, Ipam, PoolInUseError, PoolOverlapError, UnknownPoolError } from '../../src/ipam';
import { GlobalStore, LocalStore } from '../../src/store';
import { until } from '../../test/helpers/until';
import { startEtcd } from '../helpers/etcd';
import { startAllocator } from './helpers';

async function sharedPool(t: Parameters<typeof startEtcd>[0], pool: string): Promise<{ endpoint: string; poolId: string; store: GlobalStore }> {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: new LocalStore(':memory:'), global: store });
  t.teardown(() => ipam.close());
  const { poolId } = await ipam.requestPool({ addressSpace: GLOBAL_SPACE, pool });
  return { endpoint: etcd.endpoint, poolId, store };
}

/** Two allocators of two "daemons", each with its own connection to the same etcd. */
async function twoDaemons(t: Parameters<typeof startEtcd>[0], endpoint: string): Promise<[Ipam, Ipam]> {
  const stores = [new GlobalStore({ endpoints: [endpoint] }), new GlobalStore({ endpoints: [endpoint] })];
  t.teardown(async () => {
    for (const s of stores) await s.close();
  });
  const [a, b] = await Promise.all(stores.map((global) => Ipam.open({ local: new LocalStore(':memory:'), global })));
  t.teardown(async () => {
    await a!.close();
    await b!.close();
  });
  return [a!, b!];
}

test('two daemons allocating from one pool at the same moment never hand out the same address', async (t) => {
  const { endpoint, poolId, store } = await sharedPool(t, '10.50.0.0/22');
  const daemons = [0, 1].map(() => startAllocator(t, [`etcd:${endpoint}`, 'addresses', poolId, '300']));
  const codes = await Promise.all(daemons.map((d) => d.done));
  t.deepEqual(codes, [0, 0], daemons.map((d) => d.stderr()).join('\n'));
  const all = daemons.flatMap((d) => d.results);
  t.is(all.length, 600);
  t.is(new Set(all).size, 600);
  const stored = await store.list(`ipam/GlobalDefault/addrs/${encodeURIComponent(poolId)}/`);
  t.is(stored.length, 600);
});

test('two allocators in one process, racing in lockstep for the same next address, both finish without duplicates', async (t) => {
  const { endpoint, poolId } = await sharedPool(t, '10.52.0.0/22');
  const stores = [new GlobalStore({ endpoints: [endpoint] }), new GlobalStore({ endpoints: [endpoint] })];
  t.teardown(async () => {
    for (const s of stores) await s.close();
  });
  const ipams = await Promise.all(stores.map((global) => Ipam.open({ local: new LocalStore(':memory:'), global })));
  t.teardown(async () => {
    for (const i of ipams) await i.close();
  });
  const results = await Promise.all(
    ipams.map(async (ipam) => {
      const got: string[] = [];
      for (let i = 0; i < 500; i++) got.push(await ipam.requestAddress(poolId));
      return got;
    }),
  );
  const all = results.flat();
  t.is(all.length, 1000);
  t.is(new Set(all).size, 1000);
});

test('an allocator whose view of the pool is stale finds addresses another daemon released', async (t) => {
  const { endpoint, poolId } = await sharedPool(t, '10.53.0.0/29');
  const [a, b] = await twoDaemons(t, endpoint);
  const taken: string[] = [];
  for (let i = 0; i < 6; i++) taken.push(await a.requestAddress(poolId));
  // b learns the pool is full the hard way, then a releases one.
  await t.throwsAsync(b.requestAddress(poolId));
  await a.releaseAddress(poolId, taken[2]!);
  t.is(await b.requestAddress(poolId), taken[2]);
});

test('concurrent dynamic pool requests from two daemons get distinct pools', async (t) => {
  const etcd = await startEtcd(t);
  const daemons = [0, 1].map(() => startAllocator(t, [`etcd:${etcd.endpoint}`, 'pools', '15']));
  const codes = await Promise.all(daemons.map((d) => d.done));
  t.deepEqual(codes, [0, 0], daemons.map((d) => d.stderr()).join('\n'));
  const pools = daemons.flatMap((d) => d.results);
  t.is(pools.length, 30);
  t.is(new Set(pools).size, 30);
  t.true(pools.every((p) => /^10\.0\.\d+\.0\/24$/.test(p)));
});

test('three daemons requesting the same static pool at once share it: one pool, three references', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(() => store.close());
  const daemons = [0, 1, 2].map(() => startAllocator(t, [`etcd:${etcd.endpoint}`, 'static', '10.60.0.0/16']));
  const codes = await Promise.all(daemons.map((d) => d.done));
  t.deepEqual(codes, [0, 0, 0], daemons.map((d) => d.stderr()).join('\n'));
  t.deepEqual(daemons.map((d) => d.results), [['GlobalDefault/10.60.0.0/16'], ['GlobalDefault/10.60.0.0/16'], ['GlobalDefault/10.60.0.0/16']]);
  const pools = await store.list('ipam/GlobalDefault/pools/');
  t.is(pools.length, 1);
  t.is((JSON.parse(pools[0]!.value.toString()) as { refs: number }).refs, 3);
});

test('a pool released by one daemon is gone for the other; an overlapping static request is refused across daemons', async (t) => {
  const { endpoint, poolId } = await sharedPool(t, '10.61.0.0/24');
  const [a, b] = await twoDaemons(t, endpoint);
  await t.throwsAsync(b.requestPool({ addressSpace: GLOBAL_SPACE, pool: '10.61.0.128/25' }), { instanceOf: PoolOverlapError });
  t.is(await b.requestAddress(poolId), '10.61.0.1/24');
  await t.throwsAsync(a.releasePool(poolId), { instanceOf: PoolInUseError }); // a sees b's endpoint in the store
  await a.releasePool(poolId, { force: true });
  // b learns of the release through its watch, without a pool operation of its own.
  await until('b to hear of the release', () => !b.poolIds(GLOBAL_SPACE).includes(poolId));
  await t.throwsAsync(b.requestAddress(poolId), { instanceOf: UnknownPoolError });
});

test('a daemon follows the other\'s allocations as they happen: serial allocation on both, few lost races', async (t) => {
  const { endpoint, poolId } = await sharedPool(t, '10.62.0.0/24');
  const stores = [new GlobalStore({ endpoints: [endpoint] }), new GlobalStore({ endpoints: [endpoint] })];
  const ipams = await Promise.all(stores.map((global) => Ipam.open({ local: new LocalStore(':memory:'), global })));
  t.teardown(async () => {
    for (const i of ipams) await i.close();
    for (const s of stores) await s.close();
  });
  const [a, b] = ipams as [Ipam, Ipam];
  for (let i = 0; i < 10; i++) await a.requestAddress(poolId);
  await until("b to see a's addresses", async () => (await b.inUse(poolId)) >= 10);
  t.is(await b.inUse(poolId), 10);
  await a.releaseAddress(poolId, '10.62.0.4');
  await until("b to see a's release", async () => (await b.inUse(poolId)) <= 9);
  t.is(await b.inUse(poolId), 9);
  // b's serial search starts where its own cursor is (none yet: the range start) and skips what a holds.
  t.is(await b.requestAddress(poolId), '10.62.0.4/24');
  t.is(await b.requestAddress(poolId), '10.62.0.11/24');
});

test('a daemon killed with SIGKILL mid-allocation: after restart nothing acknowledged is lost or duplicated', async (t) => {
  const { endpoint, poolId, store } = await sharedPool(t, '10.51.0.0/20');
  const first = startAllocator(t, [`etcd:${endpoint}`, 'addresses', poolId, '4000'], (count, a) => {
    if (count === 500) a.process.kill('SIGKILL');
  });
  const other = startAllocator(t, [`etcd:${endpoint}`, 'addresses', poolId, '300']);
  await first.done;
  t.is(await other.done, 0, other.stderr());
  const restarted = startAllocator(t, [`etcd:${endpoint}`, 'addresses', poolId, '300']);
  t.is(await restarted.done, 0, restarted.stderr());
  const all = [...first.results, ...other.results, ...restarted.results];
  t.is(new Set(all).size, all.length);
  const stored = new Set((await store.list(`ipam/GlobalDefault/addrs/${encodeURIComponent(poolId)}/`)).map((e) => e.key.split('/').pop()!));
  for (const address of all) t.true(stored.has(address.split('/')[0]!), address);
});
