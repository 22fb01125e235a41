// `npm run bench -- netlink`: a veth lifecycle (create the pair with its peer in another
// namespace, add an address, set it up, delete it) with netctl's netlink layer and with `ip`
// commands, in the same run and the same test hosts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NetlinkHandle } from '../src/netlink';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, msSince, report } from './report';

const exec = promisify(execFile);
const BENCH = 'netlink';

interface Timing {
  /** Per-lifecycle latencies, ms. */
  samples: number[];
  /** Lifecycle steps without the delete, ms: the part that is not waiting on RCU in the kernel. */
  setupSamples: number[];
  /** Lifecycles per second over the whole run. */
  rate: number;
}

type Lifecycle = (worker: number) => Promise<number>;

/** One handle per worker, as independent callers (e.g. one per sandbox being set up) would have. */
function handles(count: number, netns: string): NetlinkHandle[] {
  return Array.from({ length: count }, () => NetlinkHandle.open({ netns }));
}

/**
 * linkDel resolves once the device is unregistered; the kernel's RCU wait behind it (~15 ms)
 * finishes on the thread pool. Let that drain so one phase does not slow the next.
 */
function quiesce(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200));
}

/** Runs `count` lifecycles with `concurrency` workers, each on its own link names. */
async function measure(count: number, concurrency: number, lifecycle: Lifecycle): Promise<Timing> {
  const samples: number[] = [];
  const setupSamples: number[] = [];
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        next++;
        const t = process.hrtime.bigint();
        setupSamples.push(await lifecycle(worker));
        samples.push(msSince(t));
      }
    }),
  );
  return { samples, setupSamples, rate: count / (msSince(start) / 1000) };
}

export async function run(): Promise<void> {
  const host = benchNamespace('nctl-bench-host');
  const container = benchNamespace('nctl-bench-ctr');
  const hostPath = `/run/netns/${host}`;
  const containerPath = `/run/netns/${container}`;
  const pool = handles(16, hostPath);
  try {
    const netctl: Lifecycle = async (w) => {
      const handle = pool[w]!;
      const t = process.hrtime.bigint();
      // As a caller would write it: the created link comes back with its index, later steps use it.
      const link = await handle.linkAdd({ kind: 'veth', name: `bv${w}`, peer: { name: `bp${w}`, netns: containerPath } });
      await handle.addrAdd(link.index, { address: `10.${100 + (w >> 8)}.${w & 255}.1/24` });
      await handle.linkSetUp(link.index);
      const setup = msSince(t);
      await handle.linkDel(link.index);
      return setup;
    };
    const ip: Lifecycle = async (w) => {
      const t = process.hrtime.bigint();
      await exec('ip', ['-n', host, 'link', 'add', `iv${w}`, 'type', 'veth', 'peer', 'name', `ip${w}`, 'netns', container]);
      await exec('ip', ['-n', host, 'addr', 'add', `10.${150 + (w >> 8)}.${w & 255}.1/24`, 'dev', `iv${w}`]);
      await exec('ip', ['-n', host, 'link', 'set', `iv${w}`, 'up']);
      const setup = msSince(t);
      await exec('ip', ['-n', host, 'link', 'del', `iv${w}`]);
      return setup;
    };

    await measure(20, 1, netctl); // warm-up: code paths, kernel caches
    const ours = await measure(1000, 1, netctl);
    await quiesce();
    const theirs = await measure(100, 1, ip);
    const peer = 'ip (iproute2, one process per step)';
    report(BENCH, 'veth lifecycle median', median(ours.samples), 'ms', 'lower', { name: peer, value: median(theirs.samples) });
    report(BENCH, 'veth lifecycle rate, one at a time', ours.rate, 'lifecycles/s', 'higher', { name: peer, value: theirs.rate });
    report(BENCH, 'veth create+address+up median (no delete)', median(ours.setupSamples), 'ms', 'lower', { name: peer, value: median(theirs.setupSamples) });

    // Lifecycles overlapping: the kernel serialises them on the RTNL lock, so this mostly shows
    // that nothing in netctl (queueing, the thread pool) is the limit.
    await quiesce();
    const ours16 = await measure(1000, 16, netctl);
    await quiesce();
    const theirs16 = await measure(200, 16, ip);
    report(BENCH, 'veth lifecycle rate, 16 in flight', ours16.rate, 'lifecycles/s', 'higher', { name: `${peer}, 16 in flight`, value: theirs16.rate });
  } finally {
    for (const handle of pool) handle.close();
    removeNamespace(host);
    removeNamespace(container);
  }
}
