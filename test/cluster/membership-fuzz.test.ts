// Any message an unauthenticated peer can send — random fields, names of real members, absurd
// incarnations, forged push-pull states — never throws out of a member, which keeps answering.
import test from 'ava';
import fc from 'fast-check';
import { decode, encode } from '../../src/cluster/codec';
import { messageArbitraries } from './arbitraries';
import { Simulation } from './simulation';

test('a barrage of random valid messages and push-pulls does not break a member', async (t) => {
  const sim = new Simulation(41);
  t.teardown(() => sim.shutdown());
  await sim.start(3);
  const realNames = sim.nodes.map((n) => n.member.name).concat(sim.nodes.map((n) => n.address));
  const { message } = messageArbitraries(fc.oneof(fc.constantFrom(...realNames), fc.string({ maxLength: 12 })));
  const rogue = sim.network.createTransport('10.0.0.99:7946');
  const acks: number[] = [];
  rogue.onPacket((packet) => {
    const decoded = decode(packet);
    if (decoded.ok) for (const m of decoded.message.type === 'compound' ? decoded.message.parts : [decoded.message]) if (m.type === 'ack') acks.push(m.seq);
  });
  const samples = fc.sample(message, { numRuns: 3000, seed: 41 });
  for (const [i, sample] of samples.entries()) {
    const target = sim.nodes[i % 3]!.address;
    // A thrown error from a member's handler would surface out of the clock's advance.
    if (sample.type === 'push-pull') await sim.settle(rogue.exchange(target, encode(sample), 1_000).catch(() => undefined));
    else rogue.sendPacket(target, encode(sample));
    if (i % 25 === 0) await sim.clock.advance(100);
  }
  await sim.clock.advance(30_000);
  acks.length = 0;
  for (const [i, node] of sim.nodes.entries()) {
    rogue.sendPacket(node.address, encode({ type: 'ping', seq: 1_000_000 + i, target: node.member.name }));
  }
  await sim.clock.advance(100);
  t.deepEqual(acks.sort((a, b) => a - b), [1_000_000, 1_000_001, 1_000_002]);
});
