// Network-scoped tables on a simulated cluster (virtual time, seeded): entries reach exactly the
// network's members, newer Lamport times win whatever the order of arrival, tombstones are
// reaped, a dead owner's entries go, and push-pull repairs partitions, leaves and rejoins.
import test from 'ava';
import { encode } from '../../src/cluster/codec';
import { TableError } from '../../src/cluster/network-tables';
import { decodeTableMessage, encodeTableMessage } from '../../src/cluster/table-codec';
import { TableSimulation, type TableMember } from './table-simulation';

const NET = 'net-1';
const TABLE = 'endpoints';

const events = (m: TableMember): string[] => m.tableEvents.map((e) => `${e.type} ${e.key}=${e.value.toString()}@${e.owner}`);

async function joinAll(ts: TableSimulation, members: TableMember[], network = NET): Promise<void> {
  for (const m of members) await ts.sim.settle(m.tables.joinNetwork(network));
  if ((await ts.sim.runUntil(() => ts.networkKnown(network, members), 5_000)) === undefined) throw new Error(`not every member learned who is on ${network}`);
}

test('3 members: entries reach the two on the network, never the third; update and delete follow', async (t) => {
  const ts = new TableSimulation(3);
  t.teardown(() => ts.shutdown());
  await ts.start(3);
  const [a, b, c] = ts.members as [TableMember, TableMember, TableMember];
  await joinAll(ts, [a, b]);
  t.deepEqual(c.tables.nodesOf(NET), ['node-0', 'node-1'], 'a member off the network knows who is on it');

  a.tables.createEntry(NET, TABLE, 'ep1', Buffer.from('10.0.0.5'));
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === 'ep1=10.0.0.5@node-0', 1_000), undefined);
  a.tables.updateEntry(NET, TABLE, 'ep1', Buffer.from('10.0.0.6'));
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === 'ep1=10.0.0.6@node-0', 1_000), undefined);
  a.tables.deleteEntry(NET, TABLE, 'ep1');
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === '', 1_000), undefined);
  await ts.sim.runUntil(() => false, 40_000); // Past a bulk sync round.

  t.deepEqual(events(b), ['create ep1=10.0.0.5@node-0', 'update ep1=10.0.0.6@node-0', 'delete ep1=10.0.0.6@node-0']);
  t.deepEqual(events(a), [], 'the owner hears no events of its own entries');
  t.deepEqual(c.tableEvents, []);
  t.is(c.tables.entries(NET, TABLE).length + c.tables.tombstones(NET), 0, 'the member off the network stored nothing');
  t.is(b.tables.tombstones(NET), 1, 'the delete stays as a tombstone until reaped');
});

test('20 members: a create reaches the 10 on the network quickly and none of the others', async (t) => {
  const ts = new TableSimulation(20);
  t.teardown(() => ts.shutdown());
  await ts.start(20);
  const on = ts.members.filter((_, i) => i % 2 === 0);
  const off = ts.members.filter((_, i) => i % 2 === 1);
  await joinAll(ts, on);
  on[3]!.tables.createEntry(NET, TABLE, 'ep', Buffer.from('v'));
  const start = ts.sim.clock.now();
  // 1 ms steps: the latency is measured to the millisecond.
  t.true(await ts.sim.clock.runUntil(() => on.every((m) => ts.view(m, NET, TABLE) === 'ep=v@node-6'), 10_000, 1));
  const took = ts.sim.clock.now() - start;
  t.log(`create seen by all 10 network members after ${took} ms of simulated time (1 ms links, no loss)`);
  // Changes go out at once and each receiver passes them on at once; a member all first waves missed gets it next round.
  t.true(took <= 2 * 200, `within two gossip rounds (took ${took} ms)`);
  await ts.sim.runUntil(() => false, 35_000);
  t.true(off.every((m) => m.tables.entries(NET, TABLE).length === 0 && m.tables.tombstones(NET) === 0 && m.tableEvents.length === 0));
  t.true(off.every((m) => m.tables.nodesOf(NET).length === 10));
});

test('a reordered update does not overwrite a newer one: the Lamport time decides', async (t) => {
  const ts = new TableSimulation(5);
  t.teardown(() => ts.shutdown());
  await ts.start(2);
  const [a, b] = ts.members as [TableMember, TableMember];
  await joinAll(ts, [a, b]);
  a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v0'));
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === 'k=v0@node-0', 1_000), undefined);
  // v1 takes 3 s to arrive, v2 then the delete overtake it; then v3 after the delete (a new create).
  ts.sim.network.setLink(a.node.address, b.node.address, { latencyMs: 3_000 });
  a.tables.updateEntry(NET, TABLE, 'k', Buffer.from('v1'));
  await ts.sim.clock.advance(10);
  ts.sim.network.setLink(a.node.address, b.node.address, { latencyMs: 1 });
  a.tables.updateEntry(NET, TABLE, 'k', Buffer.from('v2'));
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === 'k=v2@node-0', 1_000), undefined);
  await ts.sim.runUntil(() => false, 5_000);
  t.is(ts.view(b, NET, TABLE), 'k=v2@node-0', 'the late v1 was ignored');
  t.deepEqual(events(b), ['create k=v0@node-0', 'update k=v2@node-0']);

  ts.sim.network.setLink(a.node.address, b.node.address, { latencyMs: 3_000 });
  a.tables.deleteEntry(NET, TABLE, 'k');
  await ts.sim.clock.advance(10);
  ts.sim.network.setLink(a.node.address, b.node.address, { latencyMs: 1 });
  a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v3'));
  await ts.sim.runUntil(() => false, 5_000);
  t.is(ts.view(b, NET, TABLE), 'k=v3@node-0', 'the late delete did not remove the newer create');
  t.deepEqual(events(b).slice(2), ['update k=v3@node-0']);
});

test('under 30% loss and jittery links, 10 network members end with the last write of each key', async (t) => {
  const ts = new TableSimulation(9);
  t.teardown(() => ts.shutdown());
  await ts.start(12, { bulkSyncIntervalMs: 5_000 });
  const on = ts.members.slice(0, 10);
  await joinAll(ts, on);
  const nodes = ts.sim.nodes;
  const rand = (() => {
    let x = 7;
    return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  })();
  const expected = new Map<string, string>();
  for (let round = 0; round < 40; round++) {
    for (const from of nodes) for (const to of nodes) if (from !== to) ts.sim.network.setLink(from.address, to.address, { loss: 0.3, latencyMs: 1 + Math.floor(rand() * 400) });
    const writer = on[round % 4]!;
    const key = `k${round % 4}-${writer.node.member.name}`;
    if (!writer.tables.entries(NET, TABLE).some((e) => e.key === key)) writer.tables.createEntry(NET, TABLE, key, Buffer.from(`r${round}`));
    else if (round % 7 === 0) writer.tables.deleteEntry(NET, TABLE, key);
    else writer.tables.updateEntry(NET, TABLE, key, Buffer.from(`r${round}`));
    expected.clear();
    for (const e of on.slice(0, 4).flatMap((m) => m.tables.entries(NET, TABLE).filter((x) => x.owner === m.node.member.name))) expected.set(e.key, `${e.key}=${e.value.toString()}@${e.owner}`);
    await ts.sim.clock.advance(150);
  }
  const want = [...expected.values()].sort().join(',');
  for (const from of nodes) for (const to of nodes) if (from !== to) ts.sim.network.setLink(from.address, to.address, { loss: 0, latencyMs: 1 });
  const took = await ts.sim.runUntil(() => on.every((m) => ts.view(m, NET, TABLE) === want), 30_000);
  t.not(took, undefined, `all 10 hold ${want}`);
  t.true(ts.members.slice(10).every((m) => m.tables.entries(NET, TABLE).length === 0 && m.tableEvents.length === 0));
});

test('tombstones are reaped after reapMs', async (t) => {
  const ts = new TableSimulation(6);
  t.teardown(() => ts.shutdown());
  await ts.start(3, { reapMs: 20_000 });
  await joinAll(ts, ts.members);
  const [a, b] = ts.members as [TableMember, TableMember];
  a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v'));
  t.not(await ts.sim.runUntil(() => ts.view(b, NET, TABLE) === 'k=v@node-0', 1_000), undefined);
  a.tables.deleteEntry(NET, TABLE, 'k');
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.tombstones(NET) === 1 && m.tables.entries(NET, TABLE).length === 0), 1_000), undefined);
  await ts.sim.clock.advance(15_000);
  t.true(ts.running().every((m) => m.tables.tombstones(NET) === 1), 'kept before reapMs');
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.tombstones(NET) === 0), 15_000), undefined, 'gone by 1.25 × reapMs');
});

test('a killed member: its entries are removed everywhere once it is declared dead, with delete events', async (t) => {
  const ts = new TableSimulation(12);
  t.teardown(() => ts.shutdown());
  await ts.start(5);
  await joinAll(ts, ts.members);
  const victim = ts.members[4]!;
  victim.tables.createEntry(NET, TABLE, 'victim-ep', Buffer.from('v'));
  ts.members[0]!.tables.createEntry(NET, TABLE, 'kept', Buffer.from('k'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 2), 2_000), undefined);
  await ts.kill(victim);
  const others = ts.running();
  let removedBeforeDead = false;
  t.not(
    await ts.sim.runUntil(
      () => others.every((m) => ts.view(m, NET, TABLE) === 'kept=k@node-0'),
      60_000,
      () => void (removedBeforeDead ||= others.some((m) => m.tables.entries(NET, TABLE).length === 1 && m.node.member.member('node-4')?.state !== 'dead')),
    ),
    undefined,
  );
  t.false(removedBeforeDead, 'entries stay while the owner is only suspected');
  for (const m of others) {
    t.true(events(m).includes('delete victim-ep=v@node-4'));
    t.deepEqual(m.nodeEvents.filter((e) => e.type === 'leave').map((e) => e.name), ['node-4']);
    t.false(m.tables.nodesOf(NET).includes('node-4'));
  }
});

test('a member partitioned until declared dead converges with the others after healing, by push-pull', async (t) => {
  const ts = new TableSimulation(14);
  t.teardown(() => ts.shutdown());
  await ts.start(4, { bulkSyncIntervalMs: 10_000 });
  await joinAll(ts, ts.members);
  const [a, b, , d] = ts.members as [TableMember, TableMember, TableMember, TableMember];
  a.tables.createEntry(NET, TABLE, 'a1', Buffer.from('1'));
  d.tables.createEntry(NET, TABLE, 'd1', Buffer.from('1'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 2), 2_000), undefined);
  for (const other of ts.members.slice(0, 3)) ts.sim.network.partition(d.node.address, other.node.address);
  // Both sides write while apart; each side declares the other dead and drops its entries.
  a.tables.updateEntry(NET, TABLE, 'a1', Buffer.from('2'));
  b.tables.createEntry(NET, TABLE, 'b1', Buffer.from('1'));
  d.tables.updateEntry(NET, TABLE, 'd1', Buffer.from('2'));
  d.tables.createEntry(NET, TABLE, 'd2', Buffer.from('1'));
  t.not(await ts.sim.runUntil(() => ts.sim.allSee('node-3', 'dead') && ts.view(d, NET, TABLE) === 'd1=2@node-3,d2=1@node-3', 90_000), undefined);
  for (const other of ts.members.slice(0, 3)) ts.sim.network.partition(d.node.address, other.node.address, false);
  const want = 'a1=2@node-0,b1=1@node-1,d1=2@node-3,d2=1@node-3';
  const took = await ts.sim.runUntil(() => ts.running().every((m) => ts.view(m, NET, TABLE) === want), 120_000);
  t.log(`converged ${took} ms after healing`);
  t.not(took, undefined);
});

test('leaving a network drops its entries there and here; rejoining pulls them back at once', async (t) => {
  const ts = new TableSimulation(15);
  t.teardown(() => ts.shutdown());
  await ts.start(3);
  await joinAll(ts, ts.members);
  const [a, b, c] = ts.members as [TableMember, TableMember, TableMember];
  a.tables.createEntry(NET, TABLE, 'a', Buffer.from('1'));
  b.tables.createEntry(NET, TABLE, 'b', Buffer.from('1'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 2), 1_000), undefined);

  b.tables.leaveNetwork(NET);
  t.deepEqual(b.tables.entries(NET, TABLE), []);
  t.deepEqual(events(b), ['create a=1@node-0', 'delete a=1@node-0']);
  t.not(await ts.sim.runUntil(() => [a, c].every((m) => ts.view(m, NET, TABLE) === 'a=1@node-0') && ts.networkKnown(NET, [a, c]), 1_000), undefined);
  t.true(events(c).includes('delete b=1@node-1'));
  a.tables.updateEntry(NET, TABLE, 'a', Buffer.from('2'));
  await ts.sim.runUntil(() => false, 35_000);
  t.deepEqual(b.tables.entries(NET, TABLE), [], 'a member off the network takes no updates');
  t.throws(() => b.tables.createEntry(NET, TABLE, 'b', Buffer.from('x')), { instanceOf: TableError, message: /not on network net-1/ });

  await ts.sim.settle(b.tables.joinNetwork(NET));
  t.is(ts.view(b, NET, TABLE), 'a=2@node-0', 'the join pulled the entries in its bulk sync');
  b.tables.createEntry(NET, TABLE, 'b', Buffer.from('3'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => ts.view(m, NET, TABLE) === 'a=2@node-0,b=3@node-1'), 1_000), undefined);
});

test('a member restarted under its name corrects what others still hold about it', async (t) => {
  const ts = new TableSimulation(16);
  t.teardown(() => ts.shutdown());
  await ts.start(3, { bulkSyncIntervalMs: 5_000 });
  await joinAll(ts, ts.members);
  const old = ts.members[2]!;
  old.tables.createEntry(NET, TABLE, 'old-ep', Buffer.from('1'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 1), 1_000), undefined);
  // Restarted before anyone declared it dead: no leave event, and a Lamport clock back at zero.
  await ts.kill(old);
  const node = ts.sim.add({}, 2);
  await ts.sim.settle(node.member.join([ts.sim.nodes[0]!.address]));
  const fresh = ts.attach(node, { bulkSyncIntervalMs: 5_000 });
  await ts.sim.settle(fresh.tables.joinNetwork('net-2'));
  const took = await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 0 && !m.tables.nodesOf(NET).includes('node-2') && m.tables.nodesOf('net-2').includes('node-2')), 60_000);
  t.not(took, undefined, 'others learn it is no longer on net-1 and drop its old entry');
});

test('bad calls are refused with what is wrong', async (t) => {
  const ts = new TableSimulation(17);
  t.teardown(() => ts.shutdown());
  await ts.start(2);
  const [a, b] = ts.members as [TableMember, TableMember];
  const code = (fn: () => unknown): string | undefined => t.throws(fn, { instanceOf: TableError })?.code;
  t.is(code(() => a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v'))), 'not-joined');
  t.is(code(() => a.tables.leaveNetwork(NET)), 'not-joined');
  await joinAll(ts, [a, b]);
  a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v'));
  t.is(code(() => a.tables.createEntry(NET, TABLE, 'k', Buffer.from('v'))), 'exists');
  t.is(code(() => a.tables.updateEntry(NET, TABLE, 'missing', Buffer.from('v'))), 'not-found');
  t.not(await ts.sim.runUntil(() => b.tables.entries(NET, TABLE).length === 1, 1_000), undefined);
  t.is(code(() => b.tables.deleteEntry(NET, TABLE, 'k')), 'not-owner');
  t.is(code(() => a.tables.createEntry(NET, TABLE, 'big', Buffer.alloc(513))), 'invalid');
  t.is(code(() => a.tables.createEntry(NET, '', 'k', Buffer.alloc(1))), 'invalid');
  await t.throwsAsync(a.tables.joinNetwork('x'.repeat(256)), { instanceOf: TableError, message: /network id needs 1 to 255 bytes/ });
  t.throws(() => ts.attach(ts.sim.nodes[0]!, { gossipIntervalMs: 0 }), { instanceOf: RangeError, message: /gossipIntervalMs must be a finite number > 0/ });
});

test('member joins and leaves are re-emitted as node events', async (t) => {
  const ts = new TableSimulation(18);
  t.teardown(() => ts.shutdown());
  await ts.start(2);
  const [a] = ts.members as [TableMember];
  const node = ts.sim.add();
  await ts.sim.settle(node.member.join([a.node.address]));
  const c = ts.attach(node);
  t.not(await ts.sim.runUntil(() => a.nodeEvents.some((e) => e.name === 'node-2'), 5_000), undefined);
  await ts.sim.settle(c.node.member.leave());
  await ts.kill(c);
  t.not(await ts.sim.runUntil(() => a.nodeEvents.some((e) => e.type === 'leave'), 5_000), undefined);
  t.deepEqual(a.nodeEvents.map((e) => [e.type, e.name, e.address, e.self]), [
    ['join', 'node-0', '10.0.0.1:7946', true],
    ['join', 'node-2', '10.0.0.3:7946', false],
    ['leave', 'node-2', '10.0.0.3:7946', false],
  ]);
});

test('a stale event about an entry it once owned does not make a member delete the key another member now owns', async (t) => {
  const ts = new TableSimulation(19);
  t.teardown(() => ts.shutdown());
  await ts.start(3);
  await joinAll(ts, ts.members);
  const [a, b] = ts.members as [TableMember, TableMember];
  a.tables.createEntry(NET, TABLE, 'k', Buffer.from('a'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 1), 1_000), undefined);
  a.tables.deleteEntry(NET, TABLE, 'k');
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => m.tables.entries(NET, TABLE).length === 0), 1_000), undefined);
  b.tables.createEntry(NET, TABLE, 'k', Buffer.from('b'));
  t.not(await ts.sim.runUntil(() => ts.running().every((m) => ts.view(m, NET, TABLE) === 'k=b@node-1'), 1_000), undefined);
  // A's first version, late (as a slow path or a peer's old state would bring it).
  const stale = encodeTableMessage({ type: 'entry-event', event: { network: NET, table: TABLE, key: 'k', owner: 'node-0', ltime: 1, deleted: false, value: Buffer.from('a') } });
  ts.sim.network.createTransport('10.0.0.99:7946').sendPacket(a.node.address, encode({ type: 'user', payload: stale }));
  await ts.sim.runUntil(() => false, 35_000);
  t.true(ts.running().every((m) => ts.view(m, NET, TABLE) === 'k=b@node-1'));
});

test('above 32 members network memberships sync as seldom as push-pull, each network entries every bulk-sync interval', async (t) => {
  const ts = new TableSimulation(41);
  t.teardown(() => ts.shutdown());
  await ts.start(40);
  const [watched, peer] = ts.members;
  await joinAll(ts, [watched!, peer!]);
  const sent: string[] = [];
  const membership = watched!.node.member;
  const requestUser = membership.requestUser.bind(membership);
  membership.requestUser = (to, payload) => {
    const decoded = decodeTableMessage(payload);
    if (decoded.ok) sent.push(decoded.message.type);
    return requestUser(to, payload);
  };
  await ts.sim.runUntil(() => false, 125_000);
  // pushPullIntervalMs(30 s, 40 members) is 60 s: two rounds in 125 s, where every 30 s made four.
  t.is(sent.filter((type) => type === 'networks-sync').length, 2);
  t.is(sent.filter((type) => type === 'bulk-sync').length, 4);
});

test('an entry that overtakes the news of its owner joining the network is kept; one from an owner that left is not', async (t) => {
  const ts = new TableSimulation(23);
  t.teardown(() => ts.shutdown());
  await ts.start(3);
  const [a, b, c] = ts.members as [TableMember, TableMember, TableMember];
  await joinAll(ts, [a, b]);
  // C's entry, as C sends it straight to the network's members right after joining, before any
  // gossip has told A that C is on the network.
  const early = encodeTableMessage({ type: 'entry-event', event: { network: NET, table: TABLE, key: 'c1', owner: 'node-2', ltime: 5, deleted: false, value: Buffer.from('10.0.0.9') } });
  ts.sim.network.createTransport('10.0.0.98:7946').sendPacket(a.node.address, encode({ type: 'user', payload: early }));
  t.not(await ts.sim.runUntil(() => ts.view(a, NET, TABLE) === 'c1=10.0.0.9@node-2', 1_000), undefined, 'kept at once, not only at the next bulk sync');

  await joinAll(ts, [a, b, c]);
  c.tables.leaveNetwork(NET);
  t.not(await ts.sim.runUntil(() => !a.tables.nodesOf(NET).includes('node-2') && ts.view(a, NET, TABLE) === '', 5_000), undefined);
  const late = encodeTableMessage({ type: 'entry-event', event: { network: NET, table: TABLE, key: 'c2', owner: 'node-2', ltime: 50, deleted: false, value: Buffer.from('10.0.0.10') } });
  ts.sim.network.createTransport('10.0.0.97:7946').sendPacket(a.node.address, encode({ type: 'user', payload: late }));
  await ts.sim.runUntil(() => false, 2_000);
  t.is(ts.view(a, NET, TABLE), '', 'an entry of an owner that left the network is ignored');
});
