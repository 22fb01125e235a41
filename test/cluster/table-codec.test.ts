// The network tables' wire format: every message round-trips, and any byte string decodes to a
// message or a CodecError — never an exception.
import test from 'ava';
import fc from 'fast-check';
import util from 'node:util';
import { CodecError } from '../../src/cluster/codec';
import { decodeTableMessage, encodeBatch, encodeTableMessage, MAX_VALUE_BYTES, type TableMessage } from '../../src/cluster/table-codec';
import { tableMessageArbitrary } from './arbitraries';

const message = tableMessageArbitrary();

test('every table message round-trips through encode and decode', (t) => {
  fc.assert(
    fc.property(message, (m) => {
      const decoded = decodeTableMessage(encodeTableMessage(m));
      return decoded.ok && util.isDeepStrictEqual(decoded.message, m);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('random bytes decode to a table message or a CodecError, never a throw', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = decodeTableMessage(Buffer.from(bytes));
      return result.ok || result.error instanceof CodecError;
    }),
    { numRuns: 20_000 },
  );
  t.pass();
});

test('mutated valid table messages (flipped, cut, extended) never throw', (t) => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (m, position, value, cut) => {
      const bytes = encodeTableMessage(m);
      const flipped = Buffer.from(bytes);
      flipped[position % flipped.length] = value;
      return [flipped, bytes.subarray(0, cut % (bytes.length + 1)), Buffer.concat([bytes, Buffer.of(value)])].every((variant) => {
        const result = decodeTableMessage(variant);
        return result.ok || result.error instanceof CodecError;
      });
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('malformed table messages name their reason', (t) => {
  const reason = (b: Buffer): string | undefined => {
    const r = decodeTableMessage(b);
    return r.ok ? undefined : r.error.reason;
  };
  const event: TableMessage = { type: 'network-event', event: { node: 'a', network: 'n', ltime: 1, leaving: false } };
  t.is(reason(Buffer.alloc(0)), 'empty');
  t.is(reason(Buffer.of(99)), 'unknown-type');
  t.is(reason(encodeTableMessage(event).subarray(0, 5)), 'truncated');
  t.is(reason(Buffer.concat([encodeTableMessage(event), Buffer.of(0)])), 'trailing-bytes');
  t.is(reason(encodeBatch([encodeBatch([encodeTableMessage(event)])])), 'invalid-field', 'a batch in a batch');
  t.is(reason(encodeBatch([encodeTableMessage({ type: 'networks-sync', events: [] })])), 'invalid-field', 'a sync in a batch');
  t.is(reason(Buffer.of(4, 0xff, 0xff, 0xff, 0xff)), 'truncated', 'a count of four billion events is refused before looping');
  const leaving = encodeTableMessage(event);
  leaving[leaving.length - 1] = 2;
  t.is(reason(leaving), 'invalid-field', 'a flag other than 0 or 1');
});

test('encoding refuses fields over their bound', (t) => {
  const entry = { network: 'n', table: 't', key: 'k', owner: 'o', ltime: 1, deleted: false, value: Buffer.alloc(MAX_VALUE_BYTES + 1) };
  t.throws(() => encodeTableMessage({ type: 'entry-event', event: entry }), { instanceOf: RangeError });
  t.throws(() => encodeTableMessage({ type: 'entry-event', event: { ...entry, value: Buffer.alloc(1), key: 'k'.repeat(256) } }), { instanceOf: RangeError });
});
