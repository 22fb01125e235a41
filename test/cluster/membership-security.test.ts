// Encrypted membership: keys rotate at runtime with no member lost, and a member with the wrong
// key can neither join nor disturb the cluster; what it sends is dropped and counted.
import test from 'ava';
import crypto from 'node:crypto';
import { encode } from '../../src/cluster/codec';
import { encrypt } from '../../src/cluster/crypto';
import { Keyring } from '../../src/cluster/keyring';
import { JoinError } from '../../src/cluster/membership';
import { Simulation } from './simulation';

const SIZE = 5;

async function encryptedCluster(t: { teardown(fn: () => void): void }, key: Buffer): Promise<{ sim: Simulation; rings: Keyring[] }> {
  const sim = new Simulation(21);
  t.teardown(() => void sim.shutdown());
  const rings: Keyring[] = [];
  for (let i = 0; i < SIZE; i++) {
    const keyring = new Keyring(key);
    rings.push(keyring);
    sim.add({ keyring });
  }
  for (const node of sim.nodes.slice(1)) await sim.settle(node.member.join([sim.nodes[0]!.address]));
  return { sim, rings };
}

test('keys rotate member by member (add, use, remove) with no member lost', async (t) => {
  const oldKey = crypto.randomBytes(32);
  const newKey = crypto.randomBytes(32);
  const { sim, rings } = await encryptedCluster(t, oldKey);
  t.not(await sim.runUntil(() => sim.converged(), 35_000), undefined);
  // Each step reaches one member at a time, seconds apart, as an operator's rollout would.
  for (const step of [(r: Keyring) => r.addKey(newKey), (r: Keyring) => r.useKey(newKey), (r: Keyring) => r.removeKey(oldKey)]) {
    for (const ring of rings) {
      step(ring);
      await sim.clock.advance(3_000);
      t.true(sim.converged());
    }
  }
  await sim.runUntil(() => false, 60_000);
  t.true(sim.converged());
  t.true(sim.nodes.every((n) => n.events.every((e) => e.type === 'join')), 'no leave events');
  t.true(sim.nodes.every((n) => n.member.drops.get('auth') === 0));
  t.true(rings.every((r) => r.keys.length === 1 && r.primaryKey.equals(newKey)));
  // The old key no longer opens anything: a member still holding only it cannot join.
  const stale = sim.add({ keyring: new Keyring(oldKey) });
  await t.throwsAsync(sim.settle(stale.member.join([sim.nodes[0]!.address])), { instanceOf: JoinError });
});

test('a member with the wrong key cannot join; its packets are dropped and counted', async (t) => {
  const key = crypto.randomBytes(32);
  const wrongKey = crypto.randomBytes(32);
  const { sim } = await encryptedCluster(t, key);
  t.not(await sim.runUntil(() => sim.converged(), 35_000), undefined);
  const seed = sim.nodes[0]!;

  const intruder = sim.add({ keyring: new Keyring(wrongKey) });
  const error = await t.throwsAsync(sim.settle(intruder.member.join([seed.address])), { instanceOf: JoinError });
  t.regex(error!.message, /same key/);
  t.is(seed.member.drops.get('auth'), 1, 'the join stream failed authentication at the seed');

  const rogue = sim.network.createTransport('10.0.0.99:7946');
  rogue.sendPacket(seed.address, encrypt(wrongKey, encode({ type: 'alive', incarnation: 9, node: 'intruder', address: '10.0.0.99:7946', meta: Buffer.alloc(0) })));
  rogue.sendPacket(seed.address, encode({ type: 'dead', incarnation: 9, node: 'node-1', from: 'intruder-with-a-long-name' }));
  rogue.sendPacket(seed.address, Buffer.of(1, 2, 3));
  t.not(await sim.runUntil(() => seed.member.drops.get('auth') + seed.member.drops.get('malformed') === 4, 1_000), undefined);
  t.is(seed.member.drops.get('auth'), 2, 'the join, then the packet under the wrong key');
  t.is(seed.member.drops.get('malformed'), 2, 'an unencrypted message and three bytes are not sealed packets');

  await sim.runUntil(() => false, 10_000);
  t.deepEqual(intruder.member.members().map((m) => m.name), [intruder.member.name]);
  await sim.kill(intruder);
  t.true(sim.running().every((n) => n.member.member('intruder') === undefined && n.member.member(intruder.member.name) === undefined));
  t.true(sim.allSee('node-1', 'alive'), 'the forged death was not believed');
});
