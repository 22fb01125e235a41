// The allocator's rules on a real (in-memory SQLite) store, without root.
import test from 'ava';
import fc from 'fast-check';
import {
  AddressInUseError,
  AddressNotAllocatedError,
  AddressOutOfRangeError,
  InvalidRequestError,
  Ipam,
  LOCAL_SPACE,
  NoDefaultPoolError,
  parseDefaultAddressPool,
  PoolExhaustedError,
  PoolInUseError,
  PoolOverlapError,
  ReservedAddressError,
  UnknownPoolError,
} from '../../src/ipam';
import { LocalStore } from '../../src/store';

async function open(t: { teardown(fn: () => Promise<void>): void }, options: { localPools?: string[] } = {}): Promise<{ ipam: Ipam; store: LocalStore }> {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: store, ...(options.localPools ? { localPools: options.localPools.map(parseDefaultAddressPool) } : {}) });
  return { ipam, store };
}

test('dynamic pools follow the defaults, skip host routes and exclusions, and differ on each request', async (t) => {
  const { ipam } = await open(t);
  t.like(await ipam.requestPool({ addressSpace: LOCAL_SPACE }), { poolId: 'LocalDefault/172.17.0.0/16', pool: '172.17.0.0/16' });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE, exclude: ['172.18.5.0/24'] })).pool, '172.19.0.0/16');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
  // A VPN route covering 172.20–23 pushes the next pool past it.
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE, exclude: ['172.20.0.0/14'] })).pool, '172.24.0.0/16');
});

test('all 31 local defaults used: Docker\'s message', async (t) => {
  const { ipam } = await open(t);
  for (let i = 0; i < 31; i++) await ipam.requestPool({ addressSpace: LOCAL_SPACE });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE }), {
    instanceOf: NoDefaultPoolError,
    message: /could not find an available, non-overlapping IPv4 address pool among the defaults/,
  });
});

test('configured default pools replace Docker\'s', async (t) => {
  const { ipam } = await open(t, { localPools: ['base=10.200.0.0/16,size=24'] });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '10.200.0.0/24');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '10.200.1.0/24');
});

test('static pools: overlap refused, identical requests share the pool by reference', async (t) => {
  const { ipam } = await open(t);
  const first = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.0.0/16' });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.3.0/24' }), { instanceOf: PoolOverlapError, message: /10\.5\.3\.0\/24 overlaps with pool 10\.5\.0\.0\/16/ });
  const again = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.0.0/16' });
  t.is(again.poolId, first.poolId);
  await ipam.releasePool(first.poolId);
  t.is(await ipam.inUse(first.poolId), 0); // one reference left
  await ipam.releasePool(first.poolId);
  await t.throwsAsync(ipam.inUse(first.poolId), { instanceOf: UnknownPoolError });
  // A dynamic request never lands on a static pool.
  await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '172.17.0.0/16' });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
});

test('gateway first usable, serial allocation that does not reuse a released address at once, wrap-around', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.9.0.0/29' });
  t.is(await ipam.requestAddress(poolId, undefined, { role: 'gateway' }), '10.9.0.1/29');
  t.is(await ipam.requestAddress(poolId), '10.9.0.2/29');
  t.is(await ipam.requestAddress(poolId), '10.9.0.3/29');
  await ipam.releaseAddress(poolId, '10.9.0.2');
  t.is(await ipam.requestAddress(poolId), '10.9.0.4/29');
  t.is(await ipam.requestAddress(poolId), '10.9.0.5/29');
  t.is(await ipam.requestAddress(poolId), '10.9.0.6/29');
  // .7 is the broadcast: wrap to the released .2.
  t.is(await ipam.requestAddress(poolId), '10.9.0.2/29');
  await t.throwsAsync(ipam.requestAddress(poolId), { instanceOf: PoolExhaustedError, message: /no available addresses in 10\.9\.0\.0\/29/ });
});

test('specific addresses, aux addresses and reserved addresses', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.8.0.0/24' });
  t.is(await ipam.requestAddress(poolId, '10.8.0.254', { role: 'gateway' }), '10.8.0.254/24');
  t.is(await ipam.requestAddress(poolId, '10.8.0.10', { role: 'aux' }), '10.8.0.10/24');
  t.is(await ipam.requestAddress(poolId, '10.8.0.50'), '10.8.0.50/24');
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.50'), { instanceOf: AddressInUseError });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.1.1'), { instanceOf: AddressOutOfRangeError, message: /address 10\.8\.1\.1 is not inside pool 10\.8\.0\.0\/24/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.1.1', { role: 'gateway' }), { instanceOf: AddressOutOfRangeError, message: /^gateway 10\.8\.1\.1/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.0'), { instanceOf: ReservedAddressError, message: /network address/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.255'), { instanceOf: ReservedAddressError, message: /broadcast address/ });
  await t.throwsAsync(ipam.requestAddress(poolId, 'not-an-ip'), { instanceOf: InvalidRequestError });
  // The serial search skips what specific requests took: .1 is free, the gateway is .254.
  t.is(await ipam.requestAddress(poolId), '10.8.0.1/24');
});

test('/31 and /32 pools hand out every address (RFC 3021); a /32 has no room for a separate gateway', async (t) => {
  const { ipam } = await open(t);
  const p31 = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.7.0.0/31' })).poolId;
  t.is(await ipam.requestAddress(p31), '10.7.0.0/31');
  t.is(await ipam.requestAddress(p31), '10.7.0.1/31');
  const p32 = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.7.1.5/32' })).poolId;
  await t.throwsAsync(ipam.requestAddress(p32, '10.7.1.6', { role: 'gateway' }), { instanceOf: AddressOutOfRangeError });
  t.is(await ipam.requestAddress(p32), '10.7.1.5/32');
});

test('an IP range limits dynamic allocation but not specific requests', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.6.0.0/16', subPool: '10.6.5.0/30' });
  t.is(poolId, 'LocalDefault/10.6.0.0/16/10.6.5.0/30');
  // The range's own edges are ordinary addresses of the /16 (as in libnetwork): all four go.
  for (const ip of ['10.6.5.0', '10.6.5.1', '10.6.5.2', '10.6.5.3']) t.is(await ipam.requestAddress(poolId), `${ip}/16`);
  await t.throwsAsync(ipam.requestAddress(poolId), { instanceOf: PoolExhaustedError, message: /10\.6\.5\.0\/30/ });
  t.is(await ipam.requestAddress(poolId, '10.6.9.9'), '10.6.9.9/16');
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.4.0.0/16', subPool: '10.3.0.0/24' }), { instanceOf: InvalidRequestError, message: /IP range 10\.3\.0\.0\/24 is not inside subnet 10\.4\.0\.0\/16/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, subPool: '10.3.0.0/24' }), { instanceOf: InvalidRequestError, message: /needs a subnet/ });
});

test('IPv6: a /64 allocates sparsely, serially, skipping the subnet-router anycast address', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'fd00:1:2:3::/64', v6: true });
  t.is(await ipam.requestAddress(poolId, undefined, { role: 'gateway' }), 'fd00:1:2:3::1/64');
  for (let i = 2; i < 1000; i++) t.is(await ipam.requestAddress(poolId), `fd00:1:2:3::${i.toString(16)}/64`);
  t.is(await ipam.requestAddress(poolId, 'fd00:1:2:3:ffff:ffff:ffff:ffff'), 'fd00:1:2:3:ffff:ffff:ffff:ffff/64');
  await t.throwsAsync(ipam.requestAddress(poolId, 'fd00:1:2:3::'), { instanceOf: ReservedAddressError, message: /subnet-router anycast/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, v6: true }), { instanceOf: NoDefaultPoolError, message: /pass an IPv6 subnet explicitly/ });
});

test('releasing: unknown pools and unallocated addresses are errors; a pool with endpoints is kept unless forced', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.3.0.0/24' });
  await ipam.requestAddress(poolId, undefined, { role: 'gateway' });
  await ipam.requestAddress(poolId);
  await t.throwsAsync(ipam.releaseAddress(poolId, '10.3.0.77'), { instanceOf: AddressNotAllocatedError });
  await t.throwsAsync(ipam.releasePool('LocalDefault/10.99.0.0/16'), { instanceOf: UnknownPoolError });
  await t.throwsAsync(ipam.requestAddress('bogus'), { instanceOf: UnknownPoolError });
  const before = (await store.list('ipam/')).length;
  await t.throwsAsync(ipam.releasePool(poolId), { instanceOf: PoolInUseError, message: /still has 1 address/ });
  t.is((await store.list('ipam/')).length, before);
  await ipam.releasePool(poolId, { force: true });
  t.deepEqual(
    (await store.list('ipam/LocalDefault/')).map((e) => e.key),
    ['ipam/LocalDefault/index'],
  );
});

test('bad input changes nothing, in memory or in the store', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.0/30' });
  await ipam.requestAddress(poolId);
  const snapshot = async (): Promise<string> => JSON.stringify((await store.list('ipam/')).map((e) => [e.key, e.value.toString()]));
  const before = await snapshot();
  for (const bad of [
    ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.1/30' }),
    ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'nonsense' }),
    ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.0/24' }),
    ipam.requestPool({ addressSpace: 'Elsewhere' as typeof LOCAL_SPACE }),
    ipam.requestAddress(poolId, '10.2.0.1'),
    ipam.requestAddress(poolId, '10.2.0.3'),
    ipam.requestAddress(poolId, '10.2.0.9'),
    ipam.releaseAddress(poolId, '10.2.0.2'),
  ]) {
    await t.throwsAsync(bad);
  }
  t.is(await snapshot(), before);
  t.is(await ipam.requestAddress(poolId), '10.2.0.2/30');
});

test('property: no sequence of requests and releases hands out a duplicate or loses an address', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.record({ op: fc.constant('alloc' as const) }), fc.record({ op: fc.constant('specific' as const), n: fc.integer({ min: 1, max: 14 }) }), fc.record({ op: fc.constant('release' as const), pick: fc.nat() })), { maxLength: 60 }),
      async (steps) => {
        const store = new LocalStore(':memory:');
        try {
          const ipam = await Ipam.open({ local: store });
          const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.1.0.0/28' });
          const held = new Set<string>(); // the model: what should be allocated
          for (const step of steps) {
            if (step.op === 'alloc') {
              if (held.size === 14) {
                await ipam.requestAddress(poolId).then(
                  () => Promise.reject(new Error('allocated from a full pool')),
                  (e: unknown) => (e instanceof PoolExhaustedError ? undefined : Promise.reject(e)),
                );
                continue;
              }
              const ip = (await ipam.requestAddress(poolId)).split('/')[0]!;
              if (held.has(ip)) throw new Error(`duplicate ${ip}`);
              held.add(ip);
            } else if (step.op === 'specific') {
              const ip = `10.1.0.${step.n}`;
              const result = await ipam.requestAddress(poolId, ip).then(
                () => 'ok',
                (e: unknown) => (e instanceof AddressInUseError ? 'in use' : Promise.reject(e)),
              );
              if ((result === 'ok') === held.has(ip)) throw new Error(`${ip}: ${result} but model says ${held.has(ip) ? 'held' : 'free'}`);
              held.add(ip);
            } else if (held.size > 0) {
              const ip = [...held][step.pick % held.size]!;
              await ipam.releaseAddress(poolId, ip);
              held.delete(ip);
            }
          }
          const stored = (await store.list(`ipam/LocalDefault/addrs/`)).map((e) => e.key.split('/').pop()!).sort();
          if (JSON.stringify(stored) !== JSON.stringify([...held].sort())) throw new Error(`store ${stored} != model ${[...held].sort()}`);
          if ((await ipam.inUse(poolId)) !== held.size) throw new Error('in-use count differs from the model');
        } finally {
          await store.close();
        }
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});
