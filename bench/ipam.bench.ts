// `npm run bench -- ipam`: allocation speed in memory, on the durable local store, against the
// CNI host-local IPAM plugin (same run), and on etcd from two concurrent allocators.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePrefix } from '../src/ip/address';
import { GLOBAL_SPACE, Ipam, LOCAL_SPACE } from '../src/ipam';
import { PoolAllocator } from '../src/ipam/allocator';
import { GlobalStore, LocalStore } from '../src/store';
import { startEtcd } from '../integration/helpers/etcd';
import { CNI_PLUGINS, cniEnvironment, timedCall } from './peer-call';
import { median, msSince, report } from './report';

const BENCH = 'ipam';
const SLASH16 = 65_534;

function inMemorySlash16(): number {
  const pool = new PoolAllocator('bench', parsePrefix('10.0.0.0/16'), undefined);
  const start = process.hrtime.bigint();
  const offsets: bigint[] = [];
  for (let i = 0; i < SLASH16; i++) {
    const offset = pool.nextFree('serial');
    pool.take(offset, undefined, true);
    offsets.push(offset);
  }
  for (const offset of offsets) pool.release(offset);
  if (pool.inUse !== 0) throw new Error(`${pool.inUse} addresses left after releasing the /16`);
  return msSince(start);
}

async function durableSlash16(dir: string): Promise<{ samples: number[]; rate: number }> {
  const store = new LocalStore(path.join(dir, 'store.db'));
  try {
    const ipam = await Ipam.open({ local: store });
    // Warm-up on another pool, so the first measured allocations are not paying for the JIT.
    const warmUp = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.9.0.0/20' });
    for (let i = 0; i < 3000; i++) await ipam.requestAddress(warmUp.poolId);
    const { poolId } = await ipam.requestPool({ addressSpace: LOCAL_SPACE, pool: '10.1.0.0/16' });
    const samples: number[] = [];
    const start = process.hrtime.bigint();
    for (let i = 0; i < SLASH16; i++) {
      const t = process.hrtime.bigint();
      await ipam.requestAddress(poolId);
      samples.push(msSince(t) * 1000);
    }
    return { samples, rate: SLASH16 / (msSince(start) / 1000) };
  } finally {
    await store.close();
  }
}

/** Allocations per second by the CNI host-local plugin, a process per allocation (as its callers run it). */
function hostLocal(dir: string, count: number): number {
  const config = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'host-local', ipam: { type: 'host-local', ranges: [[{ subnet: '10.2.0.0/16' }]], dataDir: path.join(dir, 'data') } });
  const calls = path.join(dir, 'calls');
  fs.mkdirSync(calls, { recursive: true });
  const file = path.join(CNI_PLUGINS, 'host-local');
  let ms = 0;
  for (let i = 0; i < count; i++) {
    ms += timedCall({ what: 'CNI host-local ADD', file, argv: [file], env: cniEnvironment('ADD', `bench-${i}`, '/proc/self/ns/net'), input: config }, calls);
  }
  return count / (ms / 1000);
}

async function etcdTwoAllocators(count: number): Promise<number> {
  const teardowns: Array<() => Promise<void> | void> = [];
  try {
    const etcd = await startEtcd({ teardown: (fn) => teardowns.push(fn) });
    const stores = [new GlobalStore({ endpoints: [etcd.endpoint] }), new GlobalStore({ endpoints: [etcd.endpoint] })];
    teardowns.push(async () => {
      for (const s of stores) await s.close();
    });
    const ipams = await Promise.all(stores.map((global) => Ipam.open({ local: new LocalStore(':memory:'), global })));
    teardowns.push(async () => {
      for (const ipam of ipams) await ipam.close();
    });
    const { poolId } = await ipams[0]!.requestPool({ addressSpace: GLOBAL_SPACE, pool: '10.3.0.0/16' });
    const start = process.hrtime.bigint();
    await Promise.all(
      ipams.map(async (ipam) => {
        for (let i = 0; i < count; i++) await ipam.requestAddress(poolId);
      }),
    );
    return (2 * count) / (msSince(start) / 1000);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-bench-ipam-'));
  try {
    inMemorySlash16(); // warm-up
    report(BENCH, 'allocate + release a whole /16 (65,534), in memory', median([inMemorySlash16(), inMemorySlash16(), inMemorySlash16()]), 'ms', 'lower');

    const durable = await durableSlash16(dir);
    report(BENCH, 'allocation on the local store (SQLite, durable), median over a /16', median(durable.samples), 'µs', 'lower');
    report(BENCH, 'allocation on the local store, median of the first 1,000', median(durable.samples.slice(0, 1000)), 'µs', 'lower');
    report(BENCH, 'allocation on the local store, median of the last 1,000', median(durable.samples.slice(-1000)), 'µs', 'lower');

    const hostLocalRate = hostLocal(path.join(dir, 'host-local'), 1000);
    report(BENCH, 'allocations per second (local store, durable)', durable.rate, 'allocations/s', 'higher', { name: 'CNI host-local (containernetworking-plugins)', value: hostLocalRate });

    report(BENCH, 'allocations per second on etcd, two concurrent allocators', await etcdTwoAllocators(1000), 'allocations/s', 'higher');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
