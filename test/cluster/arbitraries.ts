// fast-check generators of gossip and network table messages, for the codecs' round-trips and the fuzz tests.
import fc from 'fast-check';
import type { Message } from '../../src/cluster/codec';
import type { EntryEvent, Gossip, NetworkEvent, TableMessage } from '../../src/cluster/table-codec';

// Plain objects, as decode builds them: deep equality also compares prototypes.
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const meta = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const state = fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const);

/** Messages whose names and addresses come from `name` (random strings unless given). */
export function messageArbitraries(name: fc.Arbitrary<string> = fc.string({ maxLength: 40 })): { simple: fc.Arbitrary<Message>; message: fc.Arbitrary<Message> } {
  const simple: fc.Arbitrary<Message> = fc.oneof(
    record({ type: fc.constant('ping' as const), seq: u32, target: name }),
    record({ type: fc.constant('indirect-ping' as const), seq: u32, target: name, targetAddress: name, wantNack: fc.boolean() }),
    record({ type: fc.constant('ack' as const), seq: u32 }),
    record({ type: fc.constant('nack' as const), seq: u32 }),
    record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
    record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
    record({ type: fc.constant('alive' as const), incarnation: u32, node: name, address: name, meta }),
    record({ type: fc.constant('user' as const), payload: meta }),
  );
  const message: fc.Arbitrary<Message> = fc.oneof(
    simple,
    record({ type: fc.constant('compound' as const), parts: fc.array(simple, { maxLength: 6 }) }),
    record({
      type: fc.constant('push-pull' as const),
      nodes: fc.array(record({ name, address: name, meta, incarnation: u32, state }), { maxLength: 5 }),
    }),
  );
  return { simple, message };
}

/** Network tables messages whose names come from `name`. */
export function tableMessageArbitrary(name: fc.Arbitrary<string> = fc.string({ maxLength: 40 })): fc.Arbitrary<TableMessage> {
  const networkEvent = record<NetworkEvent>({ node: name, network: name, ltime: u32, leaving: fc.boolean() });
  const entryEvent = record<EntryEvent>({ network: name, table: name, key: name, owner: name, ltime: u32, deleted: fc.boolean(), value: meta });
  const gossip: fc.Arbitrary<Gossip> = fc.oneof(
    record({ type: fc.constant('network-event' as const), event: networkEvent }),
    record({ type: fc.constant('entry-event' as const), event: entryEvent }),
  );
  return fc.oneof(
    gossip,
    record({ type: fc.constant('batch' as const), parts: fc.array(gossip, { maxLength: 6 }) }),
    record({ type: fc.constant('networks-sync' as const), events: fc.array(networkEvent, { maxLength: 5 }) }),
    record({ type: fc.constant('bulk-sync' as const), network: name, join: networkEvent, entries: fc.array(entryEvent, { maxLength: 5 }) }),
  );
}
