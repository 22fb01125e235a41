// The cluster's VXLAN IDs on a real etcd, as the ipam etcd tests run it: hosts with their own
// etcd clients allocating at once never share a VNI, and a requested one is won by one host.
import test from 'ava';
import { VniAllocator, VniInUseError } from '../../src/ipam';
import { GlobalStore } from '../../src/store';
import { startEtcd } from '../helpers/etcd';

async function hosts(t: Parameters<typeof startEtcd>[0], count: number): Promise<VniAllocator[]> {
  const etcd = await startEtcd(t);
  const stores = Array.from({ length: count }, () => new GlobalStore({ endpoints: [etcd.endpoint] }));
  t.teardown(async () => {
    for (const store of stores) await store.close();
  });
  return stores.map((store) => new VniAllocator(store));
}

test('three hosts allocating 30 VNIs each at once get 90 distinct ones, from 4096 up', async (t) => {
  const allocators = await hosts(t, 3);
  const got = (await Promise.all(allocators.map(async (vnis, h) => Promise.all(Array.from({ length: 30 }, (_, i) => vnis.allocate(`net-${h}-${i}`)))))).flat();
  t.is(new Set(got).size, 90);
  t.deepEqual([...got].sort((x, y) => x - y), Array.from({ length: 90 }, (_, i) => 4096 + i));
});

test('one VNI requested by three hosts at once goes to exactly one; the others are told who has it', async (t) => {
  const allocators = await hosts(t, 3);
  const results = await Promise.allSettled(allocators.map((vnis, h) => vnis.allocate(`net-${h}`, 7000)));
  const won = results.findIndex((r) => r.status === 'fulfilled');
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const result of results) {
    if (result.status === 'rejected') {
      t.true(result.reason instanceof VniInUseError);
      t.is((result.reason as Error).message, `VXLAN ID 7000 is already in use by network net-${won}; choose another one, or leave it out for the next free one`);
    }
  }
  t.is(await allocators[0]!.holder(7000), `net-${won}`);
});
