// The gossip wire format: every message round-trips, compounds carry several, and any byte string
// decodes to a message or a CodecError — never an exception.
import test from 'ava';
import fc from 'fast-check';
import util from 'node:util';
import { CodecError, decode, encode, encodeCompound, MAX_META_BYTES, type Message } from '../../src/cluster/codec';

// Plain objects, as decode builds them: deep equality also compares prototypes.
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}
const name = fc.string({ maxLength: 40 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const meta = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const state = fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const);

const simple: fc.Arbitrary<Message> = fc.oneof(
  record({ type: fc.constant('ping' as const), seq: u32, target: name }),
  record({ type: fc.constant('indirect-ping' as const), seq: u32, target: name, targetAddress: name, wantNack: fc.boolean() }),
  record({ type: fc.constant('ack' as const), seq: u32 }),
  record({ type: fc.constant('nack' as const), seq: u32 }),
  record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
  record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
  record({ type: fc.constant('alive' as const), incarnation: u32, node: name, address: name, meta }),
);
const message: fc.Arbitrary<Message> = fc.oneof(
  simple,
  record({ type: fc.constant('compound' as const), parts: fc.array(simple, { maxLength: 6 }) }),
  record({
    type: fc.constant('push-pull' as const),
    join: fc.boolean(),
    nodes: fc.array(record({ name, address: name, meta, incarnation: u32, state }), { maxLength: 5 }),
  }),
);

test('every message round-trips through encode and decode', (t) => {
  // The predicate returns rather than asserts so fast-check can shrink a failure to its smallest case.
  fc.assert(
    fc.property(message, (m) => {
      const decoded = decode(encode(m));
      return decoded.ok && util.isDeepStrictEqual(decoded.message, m);
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('a push-pull of nodes with empty names, addresses and metadata round-trips', (t) => {
  const nodes = Array.from({ length: 3 }, () => ({ name: '', address: '', meta: Buffer.alloc(0), incarnation: 0, state: 'alive' as const }));
  t.deepEqual(decode(encode({ type: 'push-pull', join: false, nodes })), { ok: true, message: { type: 'push-pull', join: false, nodes } });
});

test('a ping is a few bytes: type, sequence number and target', (t) => {
  t.is(encode({ type: 'ping', seq: 7, target: 'node-1' }).length, 1 + 4 + 2 + 6);
});

test('random bytes decode to a message or a CodecError, never a throw', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = decode(Buffer.from(bytes));
      if (!result.ok) t.true(result.error instanceof CodecError);
    }),
    { numRuns: 20_000 },
  );
});

test('mutated valid packets (flipped, cut, extended) never throw', (t) => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (m, position, value, cut) => {
      const bytes = encode(m);
      const flipped = Buffer.from(bytes);
      flipped[position % flipped.length] = value;
      for (const variant of [flipped, bytes.subarray(0, cut % (bytes.length + 1)), Buffer.concat([bytes, Buffer.of(value)])]) {
        const result = decode(variant);
        if (!result.ok) t.true(result.error instanceof CodecError);
      }
    }),
    { numRuns: 5000 },
  );
});

test('malformed packets name their reason', (t) => {
  const reason = (b: Buffer): string | undefined => {
    const r = decode(b);
    return r.ok ? undefined : r.error.reason;
  };
  t.is(reason(Buffer.alloc(0)), 'empty');
  t.is(reason(Buffer.of(99)), 'unknown-type');
  t.is(reason(encode({ type: 'ack', seq: 1 }).subarray(0, 3)), 'truncated');
  t.is(reason(Buffer.concat([encode({ type: 'ack', seq: 1 }), Buffer.of(0)])), 'trailing-bytes');
  // A compound inside a compound is refused rather than recursed into.
  t.is(reason(encodeCompound([encodeCompound([encode({ type: 'ack', seq: 1 })])])), 'invalid-field');
  // A push-pull claiming four billion nodes is refused before any allocation.
  t.is(reason(Buffer.of(9, 0, 0xff, 0xff, 0xff, 0xff)), 'truncated');
  // Names must be UTF-8: replacement characters would not round-trip.
  t.is(reason(Buffer.of(1, 0, 0, 0, 1, 0, 1, 0xff)), 'invalid-field');
});

test('encoding refuses fields over their bound instead of truncating them', (t) => {
  t.throws(() => encode({ type: 'ping', seq: 1, target: 'x'.repeat(256) }), { instanceOf: RangeError });
  t.throws(() => encode({ type: 'alive', incarnation: 1, node: 'n', address: 'a', meta: Buffer.alloc(MAX_META_BYTES + 1) }), { instanceOf: RangeError });
});
