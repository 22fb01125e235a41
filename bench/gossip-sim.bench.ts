// `npm run bench -- gossip-sim`: the real membership and network tables at 100 and 1,000 simulated
// members with 0, 5 and 10% packet loss, on virtual time (see gossip-sim.ts). GOSSIP_SIM_NODES
// (e.g. 2000) and GOSSIP_SIM_LOSS (e.g. 0,5) choose others; memory and wall time grow with the
// square of the member count (every member holds a record of every other, see README).
import { pushPullIntervalMs } from '../src/cluster/membership';
import { GossipSimulator, type SimNode } from './gossip-sim';
import { median, msSince, report } from './report';

const BENCH = 'gossip-sim';
const PROBE_INTERVAL_MS = 500;
const PUSH_PULL_BASE_MS = 30_000;
const NETWORK = 'sim-net';
// Members start together, so their first push-pull fires together at 30 s; after it each member
// push-pulls once per scaled interval (as do the network-membership syncs): an idle window of
// one such interval, begun after the first, counts each member's anti-entropy exactly once.
const IDLE_START_MS = PUSH_PULL_BASE_MS + 10_000;
const UPDATE_WINDOW_MS = 5_000;
const SPREAD_MAX_MS = 120_000;
const DETECT_MAX_MS = 180_000;

function listFromEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`${name}="${raw}": give whole numbers separated by commas, e.g. 100,1000`);
  return values;
}

/**
 * Virtual ms from `act` until `done` holds, and bytes per member per second over the update's
 * window: until it is everywhere, and at least UPDATE_WINDOW_MS so its retransmissions count.
 */
async function spread(sim: GossipSimulator, act: () => void, done: () => boolean): Promise<{ ms: number; bytesPerNodePerSecond: number }> {
  const bytes = sim.bytesSent();
  act();
  const ms = await sim.clock.runUntil(done, SPREAD_MAX_MS, 1);
  if (ms === undefined) throw new Error(`an update did not reach all ${sim.nodes.length} members within ${SPREAD_MAX_MS} virtual ms`);
  if (ms < UPDATE_WINDOW_MS) await sim.clock.advance(UPDATE_WINDOW_MS - ms);
  return { ms, bytesPerNodePerSecond: (sim.bytesSent() - bytes) / sim.running().length / (Math.max(ms, UPDATE_WINDOW_MS) / 1000) };
}

async function scenario(nodes: number, lossPercent: number): Promise<void> {
  const idleMs = pushPullIntervalMs(PUSH_PULL_BASE_MS, nodes);
  const wallStart = process.hrtime.bigint();
  const sim = new GossipSimulator({ nodes, loss: lossPercent / 100, membership: { probeIntervalMs: PROBE_INTERVAL_MS } });
  const label = `at ${nodes} members, ${lossPercent}% loss`;
  // Where a long run is, on stderr (the figures stay alone on stdout).
  const progress = (phase: string): void => void process.stderr.write(`gossip-sim ${label}: ${phase} (${(sim.clock.now() / 1000).toFixed(1)} virtual s, ${(msSince(wallStart) / 1000).toFixed(0)} s wall)\n`);
  try {
    sim.seedViews();
    progress('views seeded');
    await sim.startTables(NETWORK, SPREAD_MAX_MS);
    progress('every member on the network');
    await sim.clock.advance(Math.max(0, IDLE_START_MS - sim.clock.now()));
    progress('idle window begins');

    // Any member declared dead or left other than the one killed below is a false verdict.
    const victim = sim.nodes[nodes - 1]!;
    let liveDeclaredDead = 0;
    for (const node of sim.nodes) node.member.onEvent((e) => void (e.type === 'leave' && e.node.name !== victim.member.name && liveDeclaredDead++));
    const idleBytes = sim.bytesSent();
    const suspicionsBefore = sim.suspicions();
    await sim.clock.advance(idleMs);
    const idleBytesPerNodePerSecond = (sim.bytesSent() - idleBytes) / nodes / (idleMs / 1000);
    progress('idle window done');

    // A metadata change of one member, seen as an 'update' event by every other.
    const origin = sim.nodes[1]!;
    let updated = 0;
    for (const node of sim.nodes) node.member.onEvent((e) => void (e.type === 'update' && e.node.name === origin.member.name && updated++));
    const member = await spread(sim, () => origin.member.updateMeta(Buffer.from('v2')), () => updated === nodes - 1);

    // A table entry written by one member, seen by every other on the network.
    const writer = sim.nodes[2]!;
    let created = 0;
    for (const node of sim.nodes) node.tables!.onTableEvent((e) => void (e.type === 'create' && e.key === 'probe' && created++));
    const entry = await spread(sim, () => writer.tables!.createEntry(NETWORK, 'endpoints', 'probe', Buffer.from('10.0.0.1')), () => created === nodes - 1);
    const falseSuspicions = sim.suspicions() - suspicionsBefore;

    // A member crashes (no leave): how long until each other member declares it dead.
    const detectedAt = new Map<SimNode, number>();
    for (const node of sim.nodes) node.member.onEvent((e) => void (e.type === 'leave' && e.node.name === victim.member.name && detectedAt.set(node, sim.clock.now())));
    const killedAt = sim.clock.now();
    await sim.kill(victim);
    if ((await sim.clock.runUntil(() => detectedAt.size === nodes - 1, DETECT_MAX_MS, 10)) === undefined) {
      throw new Error(`${nodes - 1 - detectedAt.size} members never declared the crashed member dead within ${DETECT_MAX_MS} virtual ms`);
    }
    const detection = [...detectedAt.values()].map((at) => at - killedAt);

    report(BENCH, `membership update to every member ${label}, protocol periods`, Math.ceil(member.ms / PROBE_INTERVAL_MS), 'periods', 'lower');
    report(BENCH, `membership update to every member ${label} (20-host goal: median member < 50 ms)`, member.ms, 'virtual ms', 'lower');
    report(BENCH, `table entry to every member ${label}, protocol periods`, Math.ceil(entry.ms / PROBE_INTERVAL_MS), 'periods', 'lower');
    report(BENCH, `table entry to every member ${label} (20-host goal: median member < 50 ms)`, entry.ms, 'virtual ms', 'lower');
    report(BENCH, `failure detection ${label}, median member`, median(detection), 'virtual ms', 'lower');
    report(BENCH, `failure detection ${label}, last member (20-host goal < 3 s)`, Math.max(...detection), 'virtual ms', 'lower');
    report(BENCH, `suspicions of live members ${label}, seen by all members together (idle ${idleMs / 1000} s + both updates; goal 0)`, falseSuspicions, 'count', 'lower');
    report(BENCH, `live members declared dead ${label}, seen by all members together (whole run; goal 0)`, liveDeclaredDead, 'count', 'lower');
    report(BENCH, `bytes sent per member ${label}, idle ${idleMs / 1000} s (20-host goal < 2 KB/s)`, idleBytesPerNodePerSecond, 'B/s', 'lower');
    report(BENCH, `bytes sent per member ${label}, in the ${UPDATE_WINDOW_MS / 1000} s from the membership update`, member.bytesPerNodePerSecond, 'B/s', 'lower');
    report(BENCH, `bytes sent per member ${label}, in the ${UPDATE_WINDOW_MS / 1000} s from the table entry`, entry.bytesPerNodePerSecond, 'B/s', 'lower');
    report(BENCH, `simulation wall time ${label}`, msSince(wallStart) / 1000, 's', 'lower');
  } finally {
    await sim.shutdown();
  }
}

export async function run(): Promise<void> {
  for (const nodes of listFromEnv('GOSSIP_SIM_NODES', [100, 1000])) {
    for (const loss of listFromEnv('GOSSIP_SIM_LOSS', [0, 5, 10])) await scenario(nodes, loss);
  }
}
