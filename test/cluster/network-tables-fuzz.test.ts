// Any table message an unauthenticated peer can send — random names, real network and member
// names, absurd Lamport times, forged syncs — never throws out of a member's tables.
import test from 'ava';
import fc from 'fast-check';
import { encode } from '../../src/cluster/codec';
import { Keyring } from '../../src/cluster/keyring';
import { encodeTableMessage } from '../../src/cluster/table-codec';
import { tableMessageArbitrary } from './arbitraries';
import { TableSimulation, type TableMember } from './table-simulation';

test('a barrage of random table messages and syncs does not break the tables', async (t) => {
  const ts = new TableSimulation(42);
  t.teardown(() => ts.shutdown());
  await ts.start(3);
  for (const m of ts.members) await ts.sim.settle(m.tables.joinNetwork('net-1'));
  const names = fc.oneof(fc.constantFrom('net-1', 'endpoints', 'node-0', 'node-1', 'node-2', 'k'), fc.string({ maxLength: 8 }));
  const rogue = ts.sim.network.createTransport('10.0.0.99:7946');
  const samples = fc.sample(tableMessageArbitrary(names), { numRuns: 2000, seed: 42 });
  for (const [i, sample] of samples.entries()) {
    const target = ts.sim.nodes[i % 3]!.address;
    const packet = encode({ type: 'user', payload: encodeTableMessage(sample) });
    // A thrown error from a member's handler would surface out of the clock's advance.
    if (sample.type === 'networks-sync' || sample.type === 'bulk-sync') await ts.sim.settle(rogue.exchange(target, packet, 1_000).catch(() => undefined));
    else if (packet.length <= 1400) rogue.sendPacket(target, packet);
    if (i % 25 === 0) await ts.sim.clock.advance(100);
  }
  rogue.sendPacket(ts.sim.nodes[0]!.address, encode({ type: 'user', payload: Buffer.of(99) }));
  await ts.sim.clock.advance(1_000);
  t.true(ts.members[0]!.tables.malformed > 0, 'garbage is counted');
  // Forged events may have left anything behind; what matters is the tables still work.
  await ts.sim.settle(ts.members[0]!.tables.joinNetwork('net-9'));
  await ts.sim.settle(ts.members[1]!.tables.joinNetwork('net-9'));
  t.not(await ts.sim.runUntil(() => ts.networkKnown('net-9', ts.members.slice(0, 2)), 5_000), undefined);
  ts.members[0]!.tables.createEntry('net-9', 't', 'fresh', Buffer.from('v'));
  t.not(await ts.sim.runUntil(() => ts.members[1]!.tables.entries('net-9', 't').some((e) => e.key === 'fresh'), 1_000), undefined);
});

test('with a keyring the tables work over encrypted packets and streams; unencrypted table messages are dropped', async (t) => {
  const ts = new TableSimulation(43);
  t.teardown(() => ts.shutdown());
  const keyring = new Keyring(Buffer.alloc(32, 7));
  for (let i = 0; i < 3; i++) ts.sim.add({ keyring });
  for (const node of ts.sim.nodes.slice(1)) await ts.sim.settle(node.member.join([ts.sim.nodes[0]!.address]));
  t.not(await ts.sim.runUntil(() => ts.sim.converged(), 60_000), undefined);
  for (const node of ts.sim.nodes) ts.attach(node);
  const [a, b] = ts.members as [TableMember, TableMember];
  for (const m of [a, b]) await ts.sim.settle(m.tables.joinNetwork('net-1'));
  t.not(await ts.sim.runUntil(() => ts.networkKnown('net-1', [a, b]), 5_000), undefined);
  a.tables.createEntry('net-1', 't', 'secret-key', Buffer.from('secret-value'));
  t.not(await ts.sim.runUntil(() => b.tables.entries('net-1', 't').length === 1, 1_000), undefined);
  // A rogue sending unencrypted table messages is dropped before the tables see them.
  const rogue = ts.sim.network.createTransport('10.0.0.99:7946');
  rogue.sendPacket(a.node.address, encode({ type: 'user', payload: Buffer.of(99) }));
  await ts.sim.clock.advance(100);
  t.is(a.tables.malformed, 0, 'the tables never saw it');
  t.true(a.node.member.drops.get('malformed') + a.node.member.drops.get('auth') > 0, 'membership dropped it');
  await t.throwsAsync(ts.sim.settle(rogue.exchange(a.node.address, encode({ type: 'user', payload: encodeTableMessage({ type: 'networks-sync', events: [] }) }), 1_000)), { message: /closed the stream without an answer/ });
});
