// The answer encoder is total: over random names (labels over 63 bytes, names over 255, empty
// labels, characters outside ASCII, 70,000 characters) and record sets, encodeAnswer and decide
// never throw, every answer parses with dns2, and it carries exactly the records DNS can carry.
import test from 'ava';
import assert from 'node:assert/strict';
import DNS from 'dns2';
import fc from 'fast-check';
import { decide, TTL } from '../../src/dns/answer';
import { encodeAnswer, encodeName, questionEnd, type RecordData } from '../../src/dns/encode';
import { NameTable, normalize } from '../../src/dns/names';
import { ipToBytes } from '../../src/ip/address';

const { Packet } = DNS;

/** RFC 1035's rules, written out apart from the encoder: ASCII, labels of 1 to 63, 255 on the wire. */
function representable(name: string): boolean {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = text.split('.');
  return /^[\x00-\x7f]*$/.test(text) && labels.every((l) => l.length >= 1 && l.length <= 63) && labels.reduce((n, l) => n + l.length + 1, 1) <= 255;
}

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  fc.string({ unit: 'binary-ascii', maxLength: 70 }).filter((s) => !s.includes('.')),
  fc.integer({ min: 60, max: 300 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((s) => !s.includes('.')),
);
const name = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.array(label, { minLength: 1, maxLength: 6 }), fc.boolean()).map(([labels, dot]) => labels.join('.') + (dot ? '.' : '')) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('a'.repeat(63), 'b'.repeat(62)), { minLength: 3, maxLength: 5 }).map((labels) => labels.join('.')) },
  { weight: 1, arbitrary: fc.constantFrom('n'.repeat(70_000), '', '.', 'a..b', 'é.front') },
);
const A = Packet.TYPE.A;
const AAAA = Packet.TYPE.AAAA;
const PTR = Packet.TYPE.PTR;
const record: fc.Arbitrary<RecordData> = fc.oneof(
  fc.record({ type: fc.constant(A), address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('not-an-ip')) }),
  fc.record({ type: fc.constant(AAAA), address: fc.oneof(fc.ipV6(), fc.ipV4()) }),
  fc.record({ type: fc.constant(PTR), domain: name }),
);

function query(question: string, type: number, edns = false): Buffer {
  const packet = new Packet();
  packet.header.id = 0x4242;
  packet.header.rd = 1;
  packet.questions.push({ name: question, type, class: Packet.CLASS.IN } as never);
  if (edns) packet.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: 4096 }) as never);
  return packet.toBuffer();
}

/** Whether the encoder can carry the record, and its size on the wire when it can. */
function wireSize(r: RecordData): number | undefined {
  if (r.domain !== undefined) return representable(r.domain) ? 12 + r.domain.replace(/\.$/, '').length + 2 : undefined;
  const length = r.type === A ? 4 : 16;
  try {
    return ipToBytes(r.address!).length === length ? 12 + length : undefined;
  } catch {
    return undefined;
  }
}

test('encodeName agrees with the rules of RFC 1035 and with dns2 on every name', (t) => {
  // Assertions inside a property throw, so that fast-check shrinks a failure to its smallest case.
  t.notThrows(() =>
    fc.assert(
      fc.property(name, (n) => {
        const wire = encodeName(n);
        assert.equal(wire !== undefined, representable(n), JSON.stringify(n.slice(0, 80)));
        if (wire) assert.equal(Packet.Name.decode(wire), n.replace(/\.$/, ''));
      }),
      { numRuns: 2000 },
    ),
  );
  t.is(encodeName('a'.repeat(63))!.length, 65);
  t.is(encodeName('a'.repeat(64)), undefined);
  t.is(encodeName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`)!.length, 255);
  t.is(encodeName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`), undefined, '256 bytes on the wire');
});

test('encodeAnswer never throws, always parses, and carries exactly the records that can be encoded (TC with none when over the limit)', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.constantFrom(A, AAAA, PTR), fc.boolean(), fc.integer({ min: 512, max: 65_535 }), (records, type, edns, limit) => {
        const message = query('q.front', type, edns);
        const end = questionEnd(message)!;
        const reply = encodeAnswer(message, end, records, TTL, edns, limit);
        const parsed = Packet.parse(reply);
        assert.deepEqual(parsed.errors, []);
        const carried = records.filter((r) => wireSize(r) !== undefined);
        const size = end + carried.reduce((n, r) => n + wireSize(r)!, 0) + (edns ? 11 : 0);
        assert.equal(parsed.header.tc, size > limit ? 1 : 0);
        assert.equal(reply.length, size > limit ? end + (edns ? 11 : 0) : size);
        const expected = size > limit ? [] : carried;
        assert.deepEqual(
          parsed.answers.map((r) => [r.type, r.name, r.ttl, r.domain ?? ipToBytes(r.address!).toString('hex')]),
          expected.map((r) => [r.type, 'q.front', TTL, r.domain?.replace(/\.$/, '') ?? ipToBytes(r.address!).toString('hex')]),
        );
      }),
      { numRuns: 1000 },
    ),
  );
});

test('a question name over 255 bytes is not plain labels: FORMERR, not an answer that echoes it', (t) => {
  const long = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 0x61)])), Buffer.from([0, 0, 1, 0, 1])]);
  t.is(questionEnd(long), undefined);
  const decision = decide(long, new NameTable(), ['n1']);
  t.true('reply' in decision);
  if ('reply' in decision) t.is(decision.reply[3]! & 0x0f, Packet.RCODE.FORMERR);
});

const endpoint = fc.record({ name, networkName: fc.oneof(name, fc.constantFrom('front', 'a.b')), host: fc.integer({ min: 1, max: 4 }) });

test('decide never throws on any table of names: PTR answers the names DNS can carry, and an address with none left goes upstream', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(endpoint, { maxLength: 12 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (endpoints, host, edns) => {
        const names = new NameTable();
        endpoints.forEach((e, i) => names.add(`e${i}`, { networkId: 'n1', networkName: e.networkName, name: e.name, aliases: [], ipv4: `10.0.0.${e.host}` }));
        const expected = endpoints.filter((e) => e.host === host).map((e) => `${normalize(e.name)}.${normalize(e.networkName)}`).filter(representable);
        const ptr = decide(query(`${host}.0.0.10.in-addr.arpa`, PTR, edns), names, ['n1'], 'tcp');
        if (expected.length === 0) {
          assert.deepEqual(ptr, { forward: true });
          return;
        }
        assert.ok('reply' in ptr);
        const parsed = Packet.parse(ptr.reply);
        assert.deepEqual(parsed.errors, []);
        assert.deepEqual(parsed.answers.map((r) => r.domain).sort(), expected.map((d) => d.replace(/\.$/, '')).sort());
        // Over UDP too (TC when it does not fit), and A for every name a query can carry.
        assert.deepEqual(Packet.parse((decide(query(`${host}.0.0.10.in-addr.arpa`, PTR), names, ['n1']) as { reply: Buffer }).reply).errors, []);
        for (const e of endpoints.filter((e) => representable(e.name))) {
          const a = decide(query(e.name, A), names, ['n1']);
          assert.ok('reply' in a, e.name);
          if ('reply' in a) assert.ok(Packet.parse(a.reply).answers.some((r) => r.address === `10.0.0.${e.host}`));
        }
      }),
      { numRuns: 500 },
    ),
  );
});

test('the reported crash: a network named with 70,000 characters, PTR for its container over UDP and TCP', (t) => {
  const names = new NameTable();
  names.add('e1', { networkId: 'n1', networkName: 'n'.repeat(70_000), name: 'victim', aliases: [], ipv4: '10.77.0.2' });
  names.add('e2', { networkId: 'n2', networkName: 'x'.repeat(64), name: 'other', aliases: [], ipv4: '10.77.0.2' });
  names.add('e3', { networkId: 'n3', networkName: 'fine', name: 'ok', aliases: [], ipv4: '10.77.0.2' });
  for (const transport of ['udp', 'tcp'] as const) {
    t.deepEqual(decide(query('2.0.77.10.in-addr.arpa', PTR), names, ['n1', 'n2'], transport), { forward: true }, 'no name left: as an address without names');
    const reply = decide(query('2.0.77.10.in-addr.arpa', PTR), names, ['n1', 'n2', 'n3'], transport) as { reply: Buffer };
    t.deepEqual(Packet.parse(reply.reply).answers.map((r) => r.domain), ['ok.fine'], 'the name that fits is answered, the others left out');
    t.deepEqual(Packet.parse((decide(query('victim', A), names, ['n1'], transport) as { reply: Buffer }).reply).answers.map((r) => r.address), ['10.77.0.2']);
  }
});
