// The facade's rules on a real (in-memory SQLite) store, without root.
import test from 'ava';
import fc from 'fast-check';
import {
  AddressInUseError,
  AddressNotAllocatedError,
  AddressOutOfRangeError,
  AUX_ADDRESS_NAME,
  AuxNameInUseError,
  GATEWAY_ADDRESS_TYPE,
  InvalidCidrError,
  InvalidIpError,
  InvalidRequestError,
  Ipam,
  IpRangeError,
  LOCAL_SPACE,
  GLOBAL_SPACE,
  NoDefaultPoolError,
  parseDefaultAddressPool,
  PoolExhaustedError,
  PoolInUseError,
  PoolOverlapError,
  PrefixTooSmallError,
  REQUEST_ADDRESS_TYPE,
  SERIAL_ALLOCATION_OPTION,
  ReservedAddressError,
  UnknownAddressSpaceError,
  UnknownPoolError,
} from '../../src/ipam';
import { LocalStore, StoreUnavailableError, type Store } from '../../src/store';
import { until } from '../helpers/until';

const GATEWAY = { [REQUEST_ADDRESS_TYPE]: GATEWAY_ADDRESS_TYPE };
const aux = (name: string): Record<string, string> => ({ [AUX_ADDRESS_NAME]: name });

async function open(t: { teardown(fn: () => Promise<void>): void }, options: { localPools?: string[] } = {}): Promise<{ ipam: Ipam; store: LocalStore }> {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: store, ...(options.localPools ? { localPools: options.localPools.map(parseDefaultAddressPool) } : {}) });
  return { ipam, store };
}

const snapshot = async (store: Store): Promise<string> => JSON.stringify((await store.list('ipam/')).map((e) => [e.key, e.value.toString()]));

test('address spaces: LocalDefault and GlobalDefault; the global one needs a global store', async (t) => {
  const { ipam } = await open(t);
  t.deepEqual(await ipam.getDefaultAddressSpaces(), { localDefaultAddressSpace: 'LocalDefault', globalDefaultAddressSpace: 'GlobalDefault' });
  await t.throwsAsync(ipam.requestPool({ addressSpace: GLOBAL_SPACE }), { instanceOf: UnknownAddressSpaceError, message: /needs a global store/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: 'Elsewhere' }), { instanceOf: UnknownAddressSpaceError, message: /"Elsewhere".*use LocalDefault or GlobalDefault/ });
});

test('the same pool may exist in two spaces', async (t) => {
  const local = new LocalStore(':memory:');
  const global = new LocalStore(':memory:'); // any Store will do for the space's logic
  t.teardown(async () => {
    await local.close();
    await global.close();
  });
  const ipam = await Ipam.open({ local, global });
  const a = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.0.0.0/24' });
  const b = await ipam.requestPool({ addressSpace: GLOBAL_SPACE, pool: '10.0.0.0/24' });
  t.is(a.poolId, 'LocalDefault/10.0.0.0/24');
  t.is(b.poolId, 'GlobalDefault/10.0.0.0/24');
  t.is(await ipam.requestAddress(a.poolId), '10.0.0.1/24');
  t.is(await ipam.requestAddress(b.poolId), '10.0.0.1/24');
  t.is((await ipam.requestPool({ addressSpace: GLOBAL_SPACE })).pool, '10.0.1.0/24');
});

test('dynamic pools follow the defaults, skip host routes and exclusions, and differ on each request', async (t) => {
  const { ipam } = await open(t);
  t.like(await ipam.requestPool({ addressSpace: LOCAL_SPACE }), { poolId: 'LocalDefault/172.17.0.0/16', pool: '172.17.0.0/16', meta: {} });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE, exclude: ['172.18.5.0/24'] })).pool, '172.19.0.0/16');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
  // A VPN route covering 172.20–23 pushes the next pool past it.
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE, exclude: ['172.20.0.0/14'] })).pool, '172.24.0.0/16');
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, exclude: ['172.20.0.0/33'] }), { instanceOf: InvalidCidrError, message: /excluded prefix/ });
});

test('all 31 local defaults used: Docker\'s message; a released one is handed out again', async (t) => {
  const { ipam } = await open(t);
  const pools: string[] = [];
  for (let i = 0; i < 31; i++) pools.push((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool);
  t.is(new Set(pools).size, 31);
  t.is(pools[30], '192.168.240.0/20');
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE }), {
    instanceOf: NoDefaultPoolError,
    message: /^could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network/,
  });
  await ipam.releasePool('LocalDefault/172.25.0.0/16');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.25.0.0/16');
});

test('configured default pools replace Docker\'s', async (t) => {
  const { ipam } = await open(t, { localPools: ['base=10.200.0.0/16,size=24', 'base=fd00:9::/48,size=64'] });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '10.200.0.0/24');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '10.200.1.0/24');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE, v6: true })).pool, 'fd00:9::/64');
});

test('static pools: overlap refused, identical requests share the pool by reference', async (t) => {
  const { ipam } = await open(t);
  const first = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.0.0/16' });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.3.0/24' }), { instanceOf: PoolOverlapError, message: /10\.5\.3\.0\/24 overlaps with pool 10\.5\.0\.0\/16 already in use in address space LocalDefault/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.0.0.0/8' }), { instanceOf: PoolOverlapError });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.0.0/16', subPool: '10.5.1.0/24' }), { instanceOf: PoolOverlapError });
  const again = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.5.0.0/16' });
  t.is(again.poolId, first.poolId);
  await ipam.requestAddress(first.poolId);
  await ipam.releasePool(first.poolId); // one reference left: the address stays
  t.is(await ipam.inUse(first.poolId), 1);
  await ipam.releasePool(first.poolId, { force: true });
  await t.throwsAsync(ipam.inUse(first.poolId), { instanceOf: UnknownPoolError });
  // A dynamic request never lands on a static pool.
  await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '172.17.0.0/16' });
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
});

test('gateway first usable, serial allocation that does not reuse a released address at once, wrap-around', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.9.0.0/29' });
  t.is(await ipam.requestAddress(poolId, undefined, GATEWAY), '10.9.0.1/29');
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

test("com.docker.network.ipam.serial 'false': the lowest free address, a released one again at once (dockerd's local networks)", async (t) => {
  const { ipam } = await open(t);
  const lowest = { [SERIAL_ALLOCATION_OPTION]: 'false' };
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.9.1.0/29' });
  t.is(await ipam.requestAddress(poolId, undefined, GATEWAY), '10.9.1.1/29');
  t.is(await ipam.requestAddress(poolId, undefined, lowest), '10.9.1.2/29');
  t.is(await ipam.requestAddress(poolId, undefined, lowest), '10.9.1.3/29');
  await ipam.releaseAddress(poolId, '10.9.1.2');
  t.is(await ipam.requestAddress(poolId, undefined, lowest), '10.9.1.2/29');
  // It leaves the serial cursor alone: a serial request goes on after .3.
  t.is(await ipam.requestAddress(poolId), '10.9.1.4/29');
});

test('explicit gateway, aux addresses by name, specific and reserved addresses', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.8.0.0/24' });
  t.is(await ipam.requestAddress(poolId, '10.8.0.254', GATEWAY), '10.8.0.254/24');
  t.is(await ipam.requestAddress(poolId, '10.8.0.10', aux('printer')), '10.8.0.10/24');
  t.deepEqual(JSON.parse((await store.get(`ipam/LocalDefault/addrs/${encodeURIComponent(poolId)}/10.8.0.10`))!.value.toString()), { role: 'aux', name: 'printer' });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.11', aux('printer')), { instanceOf: AuxNameInUseError, message: /"printer" is already reserved for 10\.8\.0\.10/ });
  await t.throwsAsync(ipam.requestAddress(poolId, undefined, aux('nas')), { instanceOf: InvalidRequestError, message: /needs its address/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.9.0.3', aux('nas')), { instanceOf: AddressOutOfRangeError, message: /^aux address "nas" 10\.9\.0\.3 is not inside pool 10\.8\.0\.0\/24/ });
  t.is(await ipam.requestAddress(poolId, '10.8.0.50'), '10.8.0.50/24');
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.50'), { instanceOf: AddressInUseError, message: /10\.8\.0\.50 is already in use/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.1.1'), { instanceOf: AddressOutOfRangeError, message: /^address 10\.8\.1\.1 is not inside pool 10\.8\.0\.0\/24/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.1.1', GATEWAY), { instanceOf: AddressOutOfRangeError, message: /^gateway 10\.8\.1\.1/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.0'), { instanceOf: ReservedAddressError, message: /network address/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.255'), { instanceOf: ReservedAddressError, message: /broadcast address/ });
  await t.throwsAsync(ipam.requestAddress(poolId, 'not-an-ip'), { instanceOf: InvalidIpError, message: /"not-an-ip"/ });
  await t.throwsAsync(ipam.requestAddress(poolId, '10.8.0.300'), { instanceOf: InvalidIpError });
  // The serial search skips what specific requests took: .1 is free, the gateway is .254.
  t.is(await ipam.requestAddress(poolId), '10.8.0.1/24');
  // Gateway and aux addresses do not keep the pool: only endpoints do.
  await t.throwsAsync(ipam.releasePool(poolId), { instanceOf: PoolInUseError, message: /2 endpoint address/ });
  await ipam.releaseAddress(poolId, '10.8.0.50');
  await ipam.releaseAddress(poolId, '10.8.0.1/24');
  await ipam.releasePool(poolId);
  t.deepEqual(await store.list(`ipam/LocalDefault/addrs/`), []);
});

test('/31 and /32 pools hand out every address (RFC 3021); a /32 has no room for a separate gateway', async (t) => {
  const { ipam } = await open(t);
  const p31 = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.7.0.0/31' })).poolId;
  t.is(await ipam.requestAddress(p31, undefined, GATEWAY), '10.7.0.0/31');
  t.is(await ipam.requestAddress(p31), '10.7.0.1/31');
  const p32 = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.7.1.5/32' })).poolId;
  await t.throwsAsync(ipam.requestAddress(p32, undefined, GATEWAY), { instanceOf: PrefixTooSmallError, message: /10\.7\.1\.5\/32 is too small: .*use a \/31/ });
  await t.throwsAsync(ipam.requestAddress(p32, '10.7.1.6', GATEWAY), { instanceOf: PrefixTooSmallError });
  t.is(await ipam.requestAddress(p32), '10.7.1.5/32');
  const p128 = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'fd00::5/128' })).poolId;
  await t.throwsAsync(ipam.requestAddress(p128, undefined, GATEWAY), { instanceOf: PrefixTooSmallError });
  t.is(await ipam.requestAddress(p128), 'fd00::5/128');
});

test('an IP range limits dynamic allocation but not specific requests', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.6.0.0/16', subPool: '10.6.5.0/30' });
  t.is(poolId, 'LocalDefault/10.6.0.0/16/10.6.5.0/30');
  // The range's own edges are ordinary addresses of the /16 (as in libnetwork): all four go.
  for (const ip of ['10.6.5.0', '10.6.5.1', '10.6.5.2', '10.6.5.3']) t.is(await ipam.requestAddress(poolId), `${ip}/16`);
  await t.throwsAsync(ipam.requestAddress(poolId), { instanceOf: PoolExhaustedError, message: /10\.6\.5\.0\/30/ });
  t.is(await ipam.requestAddress(poolId, '10.6.9.9'), '10.6.9.9/16');
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.4.0.0/16', subPool: '10.3.0.0/24' }), { instanceOf: IpRangeError, message: /IP range 10\.3\.0\.0\/24 is not inside subnet 10\.4\.0\.0\/16/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.4.0.0/16', subPool: '10.0.0.0/8' }), { instanceOf: IpRangeError });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, subPool: '10.3.0.0/24' }), { instanceOf: IpRangeError, message: /needs a subnet/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.4.0.0/16', subPool: '10.4.0.1/24' }), { instanceOf: InvalidCidrError, message: /IP range "10\.4\.0\.1\/24": has host bits set/ });
  // The gateway of a network with an IP range is the range's lowest address: in the /16 the
  // range's ".0" is an ordinary address (libnetwork hands it out too).
  const ranged = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.12.0.0/16', subPool: '10.12.3.0/24' });
  t.is(await ipam.requestAddress(ranged.poolId, undefined, GATEWAY), '10.12.3.0/16');
});

test('IPv6: a /64 allocates sparsely, serially, skipping the subnet-router anycast address', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'fd00:1:2:3::/64', v6: true });
  t.is(await ipam.requestAddress(poolId, undefined, GATEWAY), 'fd00:1:2:3::1/64');
  for (let i = 2; i < 1000; i++) t.is(await ipam.requestAddress(poolId), `fd00:1:2:3::${i.toString(16)}/64`);
  t.is(await ipam.requestAddress(poolId, 'fd00:1:2:3:ffff:ffff:ffff:ffff'), 'fd00:1:2:3:ffff:ffff:ffff:ffff/64');
  t.is(await ipam.requestAddress(poolId, 'FD00:1:2:3:0:0:0:ABCD'), 'fd00:1:2:3::abcd/64');
  t.true((await store.get(`ipam/LocalDefault/addrs/${encodeURIComponent(poolId)}/fd00:1:2:3::abcd`)) !== undefined);
  await t.throwsAsync(ipam.requestAddress(poolId, 'fd00:1:2:3::'), { instanceOf: ReservedAddressError, message: /subnet-router anycast/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, v6: true }), { instanceOf: NoDefaultPoolError, message: /IPv6.*pass an IPv6 subnet explicitly/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.0.0.0/24', v6: true }), { instanceOf: InvalidRequestError, message: /not an IPv6 subnet/ });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'fe80::%eth0/64' }), { instanceOf: InvalidCidrError, message: /zone index/ });
});

test('releasing: unknown pools and unallocated addresses are errors; a pool with endpoints is kept unless forced', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.3.0.0/24' });
  await ipam.requestAddress(poolId, undefined, GATEWAY);
  await ipam.requestAddress(poolId);
  await t.throwsAsync(ipam.releaseAddress(poolId, '10.3.0.77'), { instanceOf: AddressNotAllocatedError, message: /10\.3\.0\.77 is not allocated/ });
  await t.throwsAsync(ipam.releaseAddress(poolId, '10.4.0.1'), { instanceOf: AddressOutOfRangeError });
  await t.throwsAsync(ipam.releaseAddress(poolId, 'x'), { instanceOf: InvalidIpError });
  await t.throwsAsync(ipam.releasePool('LocalDefault/10.99.0.0/16'), { instanceOf: UnknownPoolError, message: /"LocalDefault\/10\.99\.0\.0\/16"/ });
  await t.throwsAsync(ipam.requestAddress('bogus'), { instanceOf: UnknownPoolError });
  await t.throwsAsync(ipam.requestAddress('GlobalDefault/10.0.0.0/24'), { instanceOf: UnknownPoolError });
  const before = await snapshot(store);
  await t.throwsAsync(ipam.releasePool(poolId), { instanceOf: PoolInUseError, message: /still has 1 endpoint address/ });
  t.is(await snapshot(store), before);
  t.is(await ipam.inUse(poolId), 2);
  await ipam.releasePool(poolId, { force: true });
  t.deepEqual(
    (await store.list('ipam/LocalDefault/')).map((e) => e.key),
    ['ipam/LocalDefault/index'],
  );
  await t.throwsAsync(ipam.releasePool(poolId), { instanceOf: UnknownPoolError });
});

test('bad input changes nothing, in memory or in the store', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.0/29' });
  await ipam.requestAddress(poolId);
  await ipam.requestAddress(poolId, '10.2.0.5', aux('a'));
  const tiny = (await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.1.0/32' })).poolId;
  const before = await snapshot(store);
  const bad: Array<[Promise<unknown>, new (...args: never[]) => Error]> = [
    [ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.1/29' }), InvalidCidrError],
    [ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: 'nonsense' }), InvalidCidrError],
    [ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.2.0.0/24' }), PoolOverlapError],
    [ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.3.0.0/24', subPool: '10.4.0.0/25' }), IpRangeError],
    [ipam.requestPool({ addressSpace: 'Elsewhere' }), UnknownAddressSpaceError],
    [ipam.requestAddress(poolId, '10.2.0.1'), AddressInUseError],
    [ipam.requestAddress(poolId, '10.2.0.7'), ReservedAddressError],
    [ipam.requestAddress(poolId, '10.2.0.9'), AddressOutOfRangeError],
    [ipam.requestAddress(poolId, '10.2.0.9', GATEWAY), AddressOutOfRangeError],
    [ipam.requestAddress(poolId, '10.2.0.6', aux('a')), AuxNameInUseError],
    [ipam.requestAddress(poolId, '10.2.0.x'), InvalidIpError],
    [ipam.requestAddress(tiny, undefined, GATEWAY), PrefixTooSmallError],
    [ipam.requestAddress('LocalDefault/10.77.0.0/16'), UnknownPoolError],
    [ipam.releaseAddress(poolId, '10.2.0.2'), AddressNotAllocatedError],
    [ipam.releasePool(poolId), PoolInUseError],
  ];
  for (const [promise, type] of bad) await t.throwsAsync(promise, { instanceOf: type });
  t.is(await snapshot(store), before);
  t.is(await ipam.inUse(poolId), 2);
  t.is(await ipam.requestAddress(poolId), '10.2.0.2/29'); // the cursor did not move either
  // Exhausted: nothing changes either.
  for (let i = 0; i < 3; i++) await ipam.requestAddress(poolId);
  const full = await snapshot(store);
  await t.throwsAsync(ipam.requestAddress(poolId), { instanceOf: PoolExhaustedError });
  t.is(await snapshot(store), full);
});

/** A store whose writes fail on demand, as etcd does when it is down. */
function failing(inner: Store): { store: Store; fail(on: boolean): void } {
  let failNow = false;
  const check = (): void => {
    if (failNow) throw new StoreUnavailableError('the store is down (test)');
  };
  const store: Store = {
    scope: inner.scope,
    get: (k) => inner.get(k),
    list: (p) => inner.list(p),
    watch: (p, f) => inner.watch(p, f),
    close: () => inner.close(),
    put: async (k, v, e) => (check(), inner.put(k, v, e)),
    delete: async (k, e) => (check(), inner.delete(k, e)),
    commit: async (ops) => (check(), inner.commit(ops)),
  };
  return { store, fail: (on) => (failNow = on) };
}

test('a store failure mid-operation leaves memory as it was: the same address and pool come next', async (t) => {
  const inner = new LocalStore(':memory:');
  t.teardown(() => inner.close());
  const { store, fail } = failing(inner);
  const ipam = await Ipam.open({ local: store });
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE });
  t.is(await ipam.requestAddress(poolId), '172.17.0.1/16');
  fail(true);
  await t.throwsAsync(ipam.requestAddress(poolId), { instanceOf: StoreUnavailableError });
  await t.throwsAsync(ipam.releaseAddress(poolId, '172.17.0.1'), { instanceOf: StoreUnavailableError });
  await t.throwsAsync(ipam.requestPool({ addressSpace: LOCAL_SPACE }), { instanceOf: StoreUnavailableError });
  await t.throwsAsync(ipam.releasePool(poolId, { force: true }), { instanceOf: StoreUnavailableError });
  fail(false);
  t.is(await ipam.inUse(poolId), 1);
  t.is(await ipam.requestAddress(poolId), '172.17.0.2/16');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
});

test('concurrent requests of one process: distinct addresses in serial order, distinct pools', async (t) => {
  const { ipam } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.20.0.0/24' });
  const addresses = await Promise.all(Array.from({ length: 100 }, () => ipam.requestAddress(poolId)));
  t.deepEqual(addresses, Array.from({ length: 100 }, (_, i) => `10.20.0.${i + 1}/24`));
  const pools = await Promise.all(Array.from({ length: 10 }, () => ipam.requestPool({ addressSpace: LOCAL_SPACE })));
  t.is(new Set(pools.map((p) => p.pool)).size, 10);
  const same = await Promise.all(Array.from({ length: 5 }, () => ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.30.0.0/16' })));
  t.is(new Set(same.map((p) => p.poolId)).size, 1);
  for (let i = 0; i < 4; i++) await ipam.releasePool(same[0]!.poolId);
  await ipam.releasePool(same[0]!.poolId); // the fifth reference: now it goes
  await t.throwsAsync(ipam.releasePool(same[0]!.poolId), { instanceOf: UnknownPoolError });
});

test('a released pool leaves nothing behind; a pool created again starts empty', async (t) => {
  const { ipam, store } = await open(t);
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.21.0.0/24' });
  await ipam.requestAddress(poolId);
  await ipam.releasePool(poolId, { force: true });
  // A write that landed after the release (a racing allocation on another daemon): an orphan.
  await store.put(`ipam/LocalDefault/addrs/${encodeURIComponent(poolId)}/10.21.0.9`, Buffer.from('{"role":"endpoint"}'), 0);
  await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.21.0.0/24' });
  t.is(await ipam.inUse(poolId), 0);
  t.deepEqual(await store.list('ipam/LocalDefault/addrs/'), []);
});

test('property: no sequence of requests and releases hands out a duplicate or loses an address', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('alloc' as const) }),
          fc.record({ op: fc.constant('gateway' as const) }),
          fc.record({ op: fc.constant('specific' as const), n: fc.integer({ min: 0, max: 15 }) }),
          fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
          fc.record({ op: fc.constant('reopen' as const) }),
        ),
        { maxLength: 60 },
      ),
      async (steps) => {
        const store = new LocalStore(':memory:');
        try {
          let ipam = await Ipam.open({ local: store });
          const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.1.0.0/28' });
          const held = new Set<string>(); // the model: what should be allocated
          const expectFull = async (options?: Record<string, string>): Promise<void> => {
            await ipam.requestAddress(poolId, undefined, options).then(
              () => Promise.reject(new Error('allocated from a full pool')),
              (e: unknown) => (e instanceof PoolExhaustedError ? undefined : Promise.reject(e)),
            );
          };
          for (const step of steps) {
            if (step.op === 'alloc' || step.op === 'gateway') {
              const options = step.op === 'gateway' ? GATEWAY : undefined;
              if (held.size === 14) {
                await expectFull(options);
                continue;
              }
              const ip = (await ipam.requestAddress(poolId, undefined, options)).split('/')[0]!;
              if (held.has(ip)) throw new Error(`duplicate ${ip}`);
              held.add(ip);
            } else if (step.op === 'specific') {
              const ip = `10.1.0.${step.n}`;
              const result = await ipam.requestAddress(poolId, ip).then(
                () => 'ok',
                (e: unknown) => (e instanceof AddressInUseError ? 'in use' : e instanceof ReservedAddressError ? 'reserved' : Promise.reject(e)),
              );
              const expected = step.n === 0 || step.n === 15 ? 'reserved' : held.has(ip) ? 'in use' : 'ok';
              if (result !== expected) throw new Error(`${ip}: ${result}, model says ${expected}`);
              if (result === 'ok') held.add(ip);
            } else if (step.op === 'release') {
              if (held.size === 0) continue;
              const ip = [...held][step.pick % held.size]!;
              await ipam.releaseAddress(poolId, ip);
              held.delete(ip);
            } else {
              ipam = await Ipam.open({ local: store }); // a restart on the same store
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

test('global space: when the backend ends the watch, the IPAM watches again and re-reads what it missed', async (t) => {
  const inner = new LocalStore(':memory:');
  t.teardown(() => inner.close());
  let deliver = true;
  let lose: (() => void) | undefined;
  let watches = 0;
  // A global store stand-in whose watch can be cut, missing events, as an etcd outage would.
  const global: Store = {
    scope: 'global',
    get: (k) => inner.get(k),
    list: (p) => inner.list(p),
    put: (k, v, e) => inner.put(k, v, e),
    delete: (k, e) => inner.delete(k, e),
    commit: (ops) => inner.commit(ops),
    close: async () => undefined,
    watch: async (prefix, onEvent, onError) => {
      watches++;
      deliver = true;
      lose = () => onError?.(new Error('watch ended (test)'));
      return inner.watch(prefix, (e) => deliver && onEvent(e));
    },
  };
  const local = new LocalStore(':memory:');
  t.teardown(() => local.close());
  const ipam = await Ipam.open({ local, global });
  t.teardown(() => ipam.close());
  const { poolId } = await ipam.requestPool({ addressSpace: GLOBAL_SPACE, pool: '10.70.0.0/24' });
  deliver = false;
  // Another daemon allocates .1 while this one hears nothing.
  await inner.put(`ipam/GlobalDefault/addrs/${encodeURIComponent(poolId)}/10.70.0.1`, Buffer.from('{"role":"endpoint","serial":true}'), 0);
  t.is(await ipam.inUse(poolId), 0);
  lose!();
  await until('the IPAM to re-read the store', async () => (await ipam.inUse(poolId)) > 0);
  t.is(watches, 2);
  t.is(await ipam.inUse(poolId), 1);
  t.is(await ipam.requestAddress(poolId), '10.70.0.2/24');
});
