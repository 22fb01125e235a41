// The local space on a SQLite file: state survives a restart and a SIGKILL between allocations.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_ADDRESS_TYPE, Ipam, LOCAL_SPACE, REQUEST_ADDRESS_TYPE } from '../../src/ipam';
import { LocalStore } from '../../src/store';
import { startAllocator } from './helpers';

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-ipam-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'store.db');
}

test('pools, addresses and the serial cursor survive a restart', async (t) => {
  const file = tempFile(t);
  let store = new LocalStore(file);
  let ipam = await Ipam.open({ local: store });
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE });
  await ipam.requestAddress(poolId, undefined, { [REQUEST_ADDRESS_TYPE]: GATEWAY_ADDRESS_TYPE });
  for (let i = 0; i < 5; i++) await ipam.requestAddress(poolId);
  await ipam.releaseAddress(poolId, '172.17.0.3');
  await store.close();

  store = new LocalStore(file);
  t.teardown(() => store.close());
  ipam = await Ipam.open({ local: store });
  t.is(await ipam.inUse(poolId), 5);
  // Serial allocation continues after .6, the last one handed out, rather than refilling .3.
  t.is(await ipam.requestAddress(poolId), '172.17.0.7/16');
  t.is((await ipam.requestPool({ addressSpace: LOCAL_SPACE })).pool, '172.18.0.0/16');
});

test('the cursor survives a restart even when the address it stood on was released', async (t) => {
  const file = tempFile(t);
  let store = new LocalStore(file);
  let ipam = await Ipam.open({ local: store });
  const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.41.0.0/24' });
  for (let i = 0; i < 4; i++) await ipam.requestAddress(poolId); // .1-.4
  await ipam.requestAddress(poolId, '10.41.0.100'); // specific: does not move the cursor
  await ipam.releaseAddress(poolId, '10.41.0.4'); // the cursor's own address
  await ipam.releaseAddress(poolId, '10.41.0.3');
  await store.close();

  store = new LocalStore(file);
  t.teardown(() => store.close());
  ipam = await Ipam.open({ local: store });
  // Not .3 or .4 (just released) and not .101 (after the specific one): .5, as without a restart.
  t.is(await ipam.requestAddress(poolId), '10.41.0.5/24');
});

test('a SIGKILL between allocations loses no acknowledged address and causes no duplicate', async (t) => {
  const file = tempFile(t);
  const setup = new LocalStore(file);
  const { poolId } = await (await Ipam.open({ local: setup })).requestPool({ addressSpace: LOCAL_SPACE, pool: '10.40.0.0/16' });
  await setup.close();

  const allocator = startAllocator(t, [`sqlite:${file}`, 'addresses', poolId, '60000'], (count, a) => {
    if (count === 3000) a.process.kill('SIGKILL');
  });
  await allocator.done;
  const acknowledged = allocator.results.map((r) => r.split('/')[0]!);
  t.true(acknowledged.length >= 3000, `${acknowledged.length} acknowledged`);

  const store = new LocalStore(file);
  t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: store });
  const inUse = await ipam.inUse(poolId);
  t.true(inUse >= acknowledged.length && inUse <= acknowledged.length + 1, `${inUse} in use after ${acknowledged.length} acknowledged`);
  const after: string[] = [];
  for (let i = 0; i < 100; i++) after.push((await ipam.requestAddress(poolId)).split('/')[0]!);
  const all = [...acknowledged, ...after];
  t.is(new Set(all).size, all.length);
});
