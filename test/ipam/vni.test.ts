// The cluster's VXLAN IDs over a store (etcd's logic, SQLite's in-memory store): dynamic from
// 4096 up, requested ones refused when taken, released only by their holder.
import test from 'ava';
import { statusOf } from '../../src/api/errors';
import { FIRST_DYNAMIC_VNI, InvalidRequestError, VniAllocator, VniInUseError } from '../../src/ipam';
import { LocalStore } from '../../src/store/sqlite';

function open(t: { teardown(fn: () => Promise<void>): void }): { store: LocalStore; vnis: VniAllocator } {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  return { store, vnis: new VniAllocator(store) };
}

test('dynamic VNIs start at 4096 and take the lowest free one; a released one is handed out again', async (t) => {
  const { vnis } = open(t);
  t.is(FIRST_DYNAMIC_VNI, 4096);
  t.deepEqual([await vnis.allocate('n1'), await vnis.allocate('n2'), await vnis.allocate('n3')], [4096, 4097, 4098]);
  await vnis.release(4097, 'n2');
  t.is(await vnis.holder(4097), undefined);
  t.is(await vnis.allocate('n4'), 4097);
  t.is(await vnis.holder(4098), 'n3');
});

test('a requested VNI is given when free and refused naming its holder when taken; dynamic ones skip it', async (t) => {
  const { vnis } = open(t);
  t.is(await vnis.allocate('a', 4096), 4096);
  t.is(await vnis.allocate('b', 300), 300);
  const error = await t.throwsAsync(vnis.allocate('c', 4096), { instanceOf: VniInUseError });
  t.is(error.message, 'VXLAN ID 4096 is already in use by network a; choose another one, or leave it out for the next free one');
  t.is(statusOf(error), 403);
  t.is(await vnis.allocate('d'), 4097);
});

test('a VNI outside VXLAN\'s 24 bits, or not a whole number, is refused with 400 and takes nothing', async (t) => {
  const { store, vnis } = open(t);
  for (const bad of [0, -1, 16_777_216, 1.5, Number.NaN]) {
    const error = await t.throwsAsync(vnis.allocate('x', bad), { instanceOf: InvalidRequestError });
    t.regex(error.message, /^invalid VXLAN ID .*: give a whole number from 1 to 16777215$/);
    t.is(statusOf(error), 400);
  }
  t.deepEqual(await store.list('vni/'), []);
});

test('only the holder releases a VNI', async (t) => {
  const { vnis } = open(t);
  await vnis.allocate('owner', 5000);
  await vnis.release(5000, 'someone-else');
  t.is(await vnis.holder(5000), 'owner');
  await vnis.release(5000, 'owner');
  await vnis.release(5000, 'owner');
  t.is(await vnis.holder(5000), undefined);
});

test('allocators of several hosts on one store, asking at once, never get the same VNI', async (t) => {
  const { store } = open(t);
  const hosts = [new VniAllocator(store), new VniAllocator(store), new VniAllocator(store)];
  const got = await Promise.all(hosts.flatMap((vnis, h) => Array.from({ length: 20 }, (_, i) => vnis.allocate(`net-${h}-${i}`))));
  t.is(new Set(got).size, 60);
  t.deepEqual([...got].sort((x, y) => x - y), Array.from({ length: 60 }, (_, i) => 4096 + i));
});
