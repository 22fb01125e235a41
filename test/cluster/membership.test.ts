// SWIM membership on a simulated network (virtual time, seeded): convergence, failure detection
// within its bound, no false deaths from one bad link, refutation, graceful leave.
import test from 'ava';
import { encode } from '../../src/cluster/codec';
import { JoinError, pushPullIntervalMs } from '../../src/cluster/membership';
import { Simulation } from './simulation';

// Defaults: 1 s probes, suspicion 4 × max(1, log10 n) s, stretched up to 6× without confirmations.
const PROBE_MS = 1000;
// Gossip has each update sent a bounded number of times to random members, so one may miss a
// member; the push-pull every 30 s is the guarantee. Seeds 1–60 converge within 30 s, most at once.
const CONVERGE_MS = 35_000;

test('3 members converge, each seeing the two others join once', async (t) => {
  const sim = new Simulation(3);
  t.teardown(() => sim.shutdown());
  await sim.start(3);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  for (const node of sim.nodes) {
    const joined = node.events.filter((e) => e.type === 'join').map((e) => e.node.name);
    t.deepEqual(joined.sort(), sim.nodes.filter((n) => n !== node).map((n) => n.member.name).sort());
  }
});

test('20 members joining through one seed converge by gossip and push-pull', async (t) => {
  const sim = new Simulation(20);
  t.teardown(() => sim.shutdown());
  await sim.start(20);
  const took = await sim.runUntil(() => sim.converged(), CONVERGE_MS);
  t.not(took, undefined, `all 20 see all 20 alive within ${CONVERGE_MS} ms`);
  t.true(sim.nodes.every((n) => n.member.members().length === 20));
});

for (const size of [5, 12, 50]) {
  test(`${size} members: a killed member is suspected, then declared dead by all within the bound`, async (t) => {
    const sim = new Simulation(size);
    t.teardown(() => sim.shutdown());
    await sim.start(size);
    t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
    const victim = sim.nodes[size - 1]!;
    await sim.kill(victim);
    let suspectedBeforeDead = false;
    // Bound: someone probes it within about n probe rounds, then the longest suspicion timeout.
    const maxSuspicionMs = 6 * 4 * Math.max(1, Math.log10(size)) * PROBE_MS;
    const boundMs = Math.round(size * PROBE_MS + maxSuspicionMs + 5 * PROBE_MS);
    const took = await sim.runUntil(
      () => sim.allSee(victim.member.name, 'dead'),
      boundMs,
      () => {
        if (sim.running().some((n) => sim.stateOf(n, victim.member.name) === 'suspect') && !sim.running().some((n) => sim.stateOf(n, victim.member.name) === 'dead')) suspectedBeforeDead = true;
      },
    );
    t.log(`declared dead by all after ${took} ms (bound ${boundMs} ms)`);
    t.true(suspectedBeforeDead, 'suspected before anyone declared it dead');
    t.not(took, undefined, `all declared it dead within ${boundMs} ms`);
    // Confirmations from other members shorten the suspicion below its maximum.
    t.true(took! < boundMs);
    for (const node of sim.running()) {
      t.deepEqual(node.events.filter((e) => e.type === 'leave').map((e) => [e.node.name, e.node.state]), [[victim.member.name, 'dead']]);
    }
    // Dead members are forgotten after the reap time (30 s) and a probe round.
    t.not(await sim.runUntil(() => sim.running().every((n) => n.member.member(victim.member.name) === undefined), 60_000), undefined);
  });
}

test('one broken or slow link does not get a member declared dead: indirect probes reach it', async (t) => {
  const sim = new Simulation(7);
  t.teardown(() => sim.shutdown());
  await sim.start(5);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const [a, b, c, d] = sim.nodes as [typeof sim.nodes[0], typeof sim.nodes[0], typeof sim.nodes[0], typeof sim.nodes[0]];
  sim.network.partition(a.address, b.address);
  // c ↔ d is slow: 400 ms each way, so a direct ack comes after the 500 ms probe timeout.
  sim.network.setLink(c.address, d.address, { latencyMs: 400 });
  sim.network.setLink(d.address, c.address, { latencyMs: 400 });
  let sawDead = false;
  await sim.runUntil(() => false, 120_000, () => {
    if (sim.running().some((observer) => sim.running().some((n) => sim.stateOf(observer, n.member.name) === 'dead'))) sawDead = true;
  });
  t.false(sawDead, 'no member declared another dead in 120 s');
  t.true(sim.converged());
  // Nobody was even suspected: a suspicion would have made its target refute, raising its incarnation.
  t.deepEqual(sim.nodes.map((n) => n.member.member(n.member.name)!.incarnation), [1, 1, 1, 1, 1]);
  t.true(sim.nodes.every((n) => n.events.every((e) => e.type === 'join')));
});

test('a falsely suspected member refutes with a higher incarnation and nobody declares it dead', async (t) => {
  const sim = new Simulation(11);
  t.teardown(() => sim.shutdown());
  await sim.start(4);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const target = sim.nodes[1]!;
  const before = target.member.member(target.member.name)!.incarnation;
  // A rogue suspicion, as a member with a bad link would send it.
  const rogue = sim.network.createTransport('10.0.0.99:7946');
  rogue.sendPacket(sim.nodes[0]!.address, encode({ type: 'suspect', incarnation: before, node: target.member.name, from: 'rogue' }));
  // Only a refutation raises a member's incarnation: seeing it higher everywhere proves the path.
  let sawDead = false;
  const took = await sim.runUntil(
    () => sim.running().every((n) => n.member.member(target.member.name)!.incarnation > before && n.member.member(target.member.name)!.state === 'alive'),
    10_000,
    () => void (sawDead ||= sim.running().some((n) => sim.stateOf(n, target.member.name) === 'dead')),
  );
  t.not(took, undefined, 'all see the refutation');
  t.false(sawDead);
  t.true(sim.nodes.every((n) => !n.events.some((e) => e.type === 'leave')));
});

test('a graceful leave shows as left, not dead, at once', async (t) => {
  const sim = new Simulation(5);
  t.teardown(() => sim.shutdown());
  await sim.start(4);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const leaver = sim.nodes[2]!;
  await sim.settle(leaver.member.leave());
  await sim.kill(leaver);
  // Well under one suspicion timeout: the announcement, not failure detection, did it.
  t.not(await sim.runUntil(() => sim.allSee(leaver.member.name, 'left'), 2_000), undefined);
  for (const node of sim.running()) t.deepEqual(node.events.filter((e) => e.type === 'leave').map((e) => [e.node.name, e.node.state]), [[leaver.member.name, 'left']]);
  await sim.runUntil(() => false, 10_000);
  t.true(sim.allSee(leaver.member.name, 'left'));
});

test('a member restarted after it was declared dead rejoins: its refutation wins over the old verdict', async (t) => {
  const sim = new Simulation(8);
  t.teardown(() => sim.shutdown());
  await sim.start(4);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const old = sim.nodes[3]!;
  await sim.kill(old);
  t.not(await sim.runUntil(() => sim.allSee(old.member.name, 'dead'), 60_000), undefined);
  const restarted = sim.add({}, 3); // Same name and address, incarnation back at 1.
  await sim.settle(restarted.member.join([sim.nodes[0]!.address]));
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  t.true(sim.nodes[0]!.events.some((e) => e.type === 'join' && e.node.name === old.member.name && e.node.incarnation > 1));
});

test('joining through seeds that do not answer fails with a JoinError naming each seed', async (t) => {
  const sim = new Simulation(2);
  t.teardown(() => sim.shutdown());
  const lonely = sim.add();
  const error = await t.throwsAsync(sim.settle(lonely.member.join(['10.0.0.50:7946', '10.0.0.51:7946'])), { instanceOf: JoinError });
  t.deepEqual(error!.failures.map((f) => f.seed), ['10.0.0.50:7946', '10.0.0.51:7946']);
  t.regex(error!.message, /10\.0\.0\.50:7946: nothing listens/);
});

test('garbage packets are dropped and counted as malformed; the member keeps working', async (t) => {
  const sim = new Simulation(4);
  t.teardown(() => sim.shutdown());
  await sim.start(3);
  const rogue = sim.network.createTransport('10.0.0.99:7946');
  for (const garbage of [Buffer.alloc(0), Buffer.of(200, 1, 2), Buffer.of(1, 0, 0), encode({ type: 'push-pull', nodes: [] })]) {
    rogue.sendPacket(sim.nodes[0]!.address, garbage);
  }
  t.not(await sim.runUntil(() => sim.nodes[0]!.member.drops.get('malformed') === 4, 1_000), undefined);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
});

test('options out of range are refused with what is wrong', (t) => {
  const sim = new Simulation(1);
  t.throws(() => sim.add({ probeIntervalMs: 100, probeTimeoutMs: 200 }), { instanceOf: RangeError, message: /probeTimeoutMs \(200\) must be shorter than probeIntervalMs \(100\)/ });
  t.throws(() => sim.add({ gossipNodes: -1 }, 5), { instanceOf: RangeError, message: /gossipNodes must be a finite number/ });
  t.throws(() => sim.add({ name: 'n'.repeat(256) }, 6), { instanceOf: RangeError, message: /name of 1 to 255 bytes/ });
  t.throws(() => sim.add({ meta: Buffer.alloc(513) }, 7), { instanceOf: RangeError, message: /metadata is 513 bytes/ });
});

test('with 10% loss on every link, 10 members declare nobody dead', async (t) => {
  const sim = new Simulation(31);
  t.teardown(() => sim.shutdown());
  await sim.start(10);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  for (const from of sim.nodes) for (const to of sim.nodes) if (from !== to) sim.network.setLink(from.address, to.address, { loss: 0.1 });
  let sawDead = false;
  await sim.runUntil(() => false, 120_000, () => {
    sawDead ||= sim.running().some((observer) => sim.running().some((n) => sim.stateOf(observer, n.member.name) === 'dead'));
  });
  t.false(sawDead);
  t.true(sim.converged());
});

test('a member whose UDP is lost both ways but whose streams get through is never suspected (stream probe)', async (t) => {
  const sim = new Simulation(37);
  t.teardown(() => sim.shutdown());
  await sim.start(4);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const [, , , udpBlocked] = sim.nodes;
  for (const other of sim.nodes.slice(0, 3)) {
    sim.network.setLink(other.address, udpBlocked!.address, { loss: 1 });
    sim.network.setLink(udpBlocked!.address, other.address, { loss: 1 });
  }
  const suspicionsBefore = sim.nodes.map((n) => n.member.suspectsSeen);
  await sim.runUntil(() => false, 30_000);
  t.deepEqual(sim.nodes.map((n) => n.member.suspectsSeen), suspicionsBefore);
  t.true(sim.allSee(udpBlocked!.member.name, 'alive'));
});

test('a member cut off from everyone slows its own probes (health multiplier) instead of blaming others', async (t) => {
  const sim = new Simulation(13);
  t.teardown(() => sim.shutdown());
  await sim.start(5);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const isolated = sim.nodes[0]!;
  t.is(isolated.member.healthMultiplier, 1);
  for (const other of sim.nodes.slice(1)) sim.network.partition(isolated.address, other.address);
  // Its indirect probes go out but neither acks nor nacks come back: its own links are suspect.
  t.not(await sim.runUntil(() => isolated.member.healthMultiplier >= 4, 3_000), undefined);
  t.true(sim.nodes.slice(1).every((n) => n.member.healthMultiplier === 1));
  // Healed before any suspicion ran out: suspicions are refuted, acks bring its health back.
  for (const other of sim.nodes.slice(1)) sim.network.partition(isolated.address, other.address, false);
  t.not(await sim.runUntil(() => isolated.member.healthMultiplier === 1, 60_000), undefined);
  t.not(await sim.runUntil(() => sim.converged(), 10_000), undefined);
  t.true(sim.nodes.every((n) => n.events.every((e) => e.type === 'join')));
});

test('after a partition long enough for both sides to forget each other, the cluster heals through its seeds', async (t) => {
  const sim = new Simulation(17);
  t.teardown(() => sim.shutdown());
  await sim.start(5);
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const [minority, majority] = [sim.nodes.slice(0, 2), sim.nodes.slice(2)];
  for (const a of minority) for (const b of majority) sim.network.partition(a.address, b.address);
  // Both sides declare the other dead, then forget it (30 s reap).
  const forgotten = (): boolean => minority.every((a) => majority.every((b) => a.member.member(b.member.name) === undefined && b.member.member(a.member.name) === undefined));
  t.not(await sim.runUntil(forgotten, 180_000), undefined);
  for (const a of minority) for (const b of majority) sim.network.partition(a.address, b.address, false);
  // The majority's members joined through node-0, in the minority: their anti-entropy retries it.
  const took = await sim.runUntil(() => sim.converged(), 2 * 30_000 + 5_000);
  t.not(took, undefined, 'converged again within two push-pull intervals');
  // node-0 joined them once at the start and once after the heal, having left in between.
  for (const node of majority) t.deepEqual(node.events.filter((e) => e.node.name === 'node-0').map((e) => e.type), ['join', 'leave', 'join']);
});

test('a short partition heals by refutation: anti-entropy with a member declared dead', async (t) => {
  const sim = new Simulation(19);
  t.teardown(() => sim.shutdown());
  await sim.start(4, { deadReapMs: 600_000 });
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  const cut = sim.nodes[3]!;
  for (const other of sim.nodes.slice(0, 3)) sim.network.partition(cut.address, other.address);
  t.not(await sim.runUntil(() => sim.allSee(cut.member.name, 'dead') && sim.nodes.slice(0, 3).every((n) => sim.stateOf(cut, n.member.name) === 'dead'), 120_000), undefined);
  for (const other of sim.nodes.slice(0, 3)) sim.network.partition(cut.address, other.address, false);
  t.not(await sim.runUntil(() => sim.converged(), 2 * 30_000 + 5_000), undefined, 'converged again within two push-pull intervals');
  t.true(cut.member.member(cut.member.name)!.incarnation > 1, 'it refuted its death');
});

test('a metadata change reaches every member as an update event', async (t) => {
  const sim = new Simulation(23);
  t.teardown(() => sim.shutdown());
  await sim.start(4, { meta: Buffer.from('v1') });
  t.not(await sim.runUntil(() => sim.converged(), CONVERGE_MS), undefined);
  sim.nodes[1]!.member.updateMeta(Buffer.from('v2'));
  t.not(await sim.runUntil(() => sim.running().every((n) => n.member.member('node-1')!.meta.toString() === 'v2'), CONVERGE_MS), undefined);
  for (const node of sim.nodes.filter((n) => n !== sim.nodes[1])) {
    t.deepEqual(node.events.filter((e) => e.type === 'update').map((e) => [e.node.name, e.node.meta.toString()]), [['node-1', 'v2']]);
  }
  t.throws(() => sim.nodes[1]!.member.updateMeta(Buffer.alloc(513)), { instanceOf: RangeError });
});

test('full-state exchanges space out above 32 members, one base interval more each time the cluster doubles', (t) => {
  t.is(pushPullIntervalMs(30_000, 1), 30_000);
  t.is(pushPullIntervalMs(30_000, 32), 30_000);
  t.is(pushPullIntervalMs(30_000, 33), 60_000);
  t.is(pushPullIntervalMs(30_000, 64), 60_000);
  t.is(pushPullIntervalMs(30_000, 65), 90_000);
  t.is(pushPullIntervalMs(30_000, 1000), 180_000);
});
