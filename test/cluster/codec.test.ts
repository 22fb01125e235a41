// The gossip wire format: every message round-trips, compounds carry several, and any byte string
// decodes to a message or a CodecError — never an exception.
import test from 'ava';
import fc from 'fast-check';
import util from 'node:util';
import { CodecError, decode, encode, encodeCompound, MAX_META_BYTES, type Message } from '../../src/cluster/codec';
import { messageArbitraries } from './arbitraries';

const { message } = messageArbitraries();

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
  t.deepEqual(decode(encode({ type: 'push-pull', nodes })), { ok: true, message: { type: 'push-pull', nodes } });
});

test('a push-pull far larger than the writer starts with round-trips, multi-byte names and full metadata included', (t) => {
  const nodes = Array.from({ length: 300 }, (_, i) => ({ name: `nœud-${i}-名前`, address: `10.0.${i >> 8}.${i & 255}:7946`, meta: Buffer.alloc(i % 7 === 0 ? MAX_META_BYTES : i % 3, i), incarnation: i * 1000, state: 'alive' as const }));
  const packet = encode({ type: 'push-pull', nodes });
  t.true(packet.length > 300 * 30);
  t.deepEqual(decode(packet), { ok: true, message: { type: 'push-pull', nodes } });
});

test('the wire format is fixed: these bytes are what every release sends and reads', (t) => {
  const golden: Array<[Message, string]> = [
    [{ type: 'ping', seq: 7, target: 'node-1' }, '010000000700066e6f64652d31'],
    [{ type: 'alive', incarnation: 3, node: 'a', address: '10.0.0.1:7946', meta: Buffer.from('v2') }, '0600000003000161000d31302e302e302e313a3739343600027632'],
    [{ type: 'push-pull', nodes: [{ name: 'a', address: '10.0.0.1:7946', meta: Buffer.alloc(0), incarnation: 2, state: 'suspect' }] }, '0900000001000161000d31302e302e302e313a3739343600000000000201'],
  ];
  for (const [message, hex] of golden) {
    t.is(encode(message).toString('hex'), hex, message.type);
    t.deepEqual(decode(Buffer.from(hex, 'hex')), { ok: true, message });
  }
  const compound = '080200050300000001000b0700000005000162000163';
  t.is(encodeCompound([encode({ type: 'ack', seq: 1 }), encode({ type: 'dead', incarnation: 5, node: 'b', from: 'c' })]).toString('hex'), compound);
  t.deepEqual(decode(Buffer.from(compound, 'hex')), { ok: true, message: { type: 'compound', parts: [{ type: 'ack', seq: 1 }, { type: 'dead', incarnation: 5, node: 'b', from: 'c' }] } });
});

test('names that are not UTF-8 are refused: overlong, surrogate, truncated', (t) => {
  for (const bytes of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe5, 0x90], [0xff]]) {
    const packet = Buffer.concat([Buffer.from('0100000001', 'hex'), Buffer.of(0, bytes.length), Buffer.from(bytes)]);
    const result = decode(packet);
    t.false(result.ok, Buffer.from(bytes).toString('hex'));
    if (!result.ok) t.is(result.error.reason, 'invalid-field');
  }
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
  t.is(reason(Buffer.of(9, 0xff, 0xff, 0xff, 0xff)), 'truncated');
  // Names must be UTF-8: replacement characters would not round-trip.
  t.is(reason(Buffer.of(1, 0, 0, 0, 1, 0, 1, 0xff)), 'invalid-field');
});

test('encoding refuses fields over their bound instead of truncating them', (t) => {
  t.throws(() => encode({ type: 'ping', seq: 1, target: 'x'.repeat(256) }), { instanceOf: RangeError });
  t.throws(() => encode({ type: 'alive', incarnation: 1, node: 'n', address: 'a', meta: Buffer.alloc(MAX_META_BYTES + 1) }), { instanceOf: RangeError });
});
