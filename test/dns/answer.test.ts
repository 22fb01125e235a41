// One query in, a decision out: answers from the sandbox's names (A, AAAA, PTR, other types),
// FORMERR and NOTIMP for what is not a plain query, forwarding for everything else.
import test from 'ava';
import DNS from 'dns2';
import { decide, reverseAddress, TTL } from '../../src/dns/answer';
import { NameTable } from '../../src/dns/names';

const { Packet } = DNS;

function names(): NameTable {
  const table = new NameTable();
  table.add('e1', { networkId: 'n1', networkName: 'front', name: 'web', aliases: [], ipv4: '10.1.0.2', ipv6: 'fd00:1::2' });
  table.add('e2', { networkId: 'n1', networkName: 'front', name: 'db', aliases: [], ipv4: '10.1.0.3' });
  return table;
}

function query(name: string, type: number, id = 4242): Buffer {
  const packet = new Packet();
  packet.header.id = id;
  packet.header.rd = 1;
  packet.questions.push({ name, type, class: Packet.CLASS.IN } as never);
  return packet.toBuffer();
}

function reply(decision: ReturnType<typeof decide>): InstanceType<typeof Packet> {
  if (!('reply' in decision)) throw new Error(`expected a reply, got ${JSON.stringify(decision)}`);
  return Packet.parse(decision.reply);
}

test('A and AAAA from the names in scope, with Docker\'s TTL and the query\'s ID', (t) => {
  const a = reply(decide(query('WEB.', Packet.TYPE.A), names(), ['n1']));
  t.is(a.header.id, 4242);
  t.is(a.header.qr, 1);
  t.is(a.header.rcode, Packet.RCODE.NOERROR);
  t.deepEqual(a.answers.map((r) => [r.address, r.ttl]), [['10.1.0.2', TTL]]);
  t.deepEqual(reply(decide(query('web', Packet.TYPE.AAAA), names(), ['n1'])).answers.map((r) => r.address), ['fd00:1::2']);
});

test('a known name asked for the other family gets NOERROR and no answer; an unknown one is forwarded', (t) => {
  const empty = reply(decide(query('db', Packet.TYPE.AAAA), names(), ['n1']));
  t.is(empty.header.rcode, Packet.RCODE.NOERROR);
  t.is(empty.answers.length, 0);
  const mx = reply(decide(query('db', Packet.TYPE.MX), names(), ['n1']));
  t.deepEqual([mx.header.rcode, mx.answers.length], [Packet.RCODE.NOERROR, 0], 'another type of a known name: it exists, with no such records');
  t.deepEqual(decide(query('example.org', Packet.TYPE.A), names(), ['n1']), { forward: true });
  t.deepEqual(decide(query('web', Packet.TYPE.A), names(), ['n2']), { forward: true }, 'out of scope');
});

test('PTR answers name.network for addresses of the scope, IPv4 and IPv6', (t) => {
  t.deepEqual(reply(decide(query('3.0.1.10.in-addr.arpa', Packet.TYPE.PTR), names(), ['n1'])).answers.map((r) => r.domain), ['db.front']);
  const v6 = `${'2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f'}.ip6.arpa`;
  t.deepEqual(reply(decide(query(v6, Packet.TYPE.PTR), names(), ['n1'])).answers.map((r) => r.domain), ['web.front']);
  t.deepEqual(decide(query('9.9.9.9.in-addr.arpa', Packet.TYPE.PTR), names(), ['n1']), { forward: true });
  t.is(reverseAddress('256.0.0.10.in-addr.arpa'), undefined);
  t.is(reverseAddress('1.0.0.10.in-addr.arpa.'), '10.0.0.1');
});

test('malformed, truncated and non-query messages: FORMERR or NOTIMP, or dropped when there is no ID to answer', (t) => {
  t.deepEqual(decide(Buffer.from([1, 2, 3]), names(), ['n1']), { drop: true });
  const good = query('web', Packet.TYPE.A, 7);
  const cut = decide(good.subarray(0, good.length - 3), names(), ['n1']);
  t.is(reply(cut).header.rcode, Packet.RCODE.FORMERR);
  t.is(reply(cut).header.id, 7);
  const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01])]);
  t.is(reply(decide(loop, names(), ['n1'])).header.rcode, Packet.RCODE.FORMERR, 'a compression loop');
  const notify = Buffer.from(good);
  notify[2] = (notify[2]! & 0x87) | (4 << 3);
  t.is(reply(decide(notify, names(), ['n1'])).header.rcode, Packet.RCODE.NOTIMP);
  const response = Buffer.from(good);
  response[2]! |= 0x80;
  t.deepEqual(decide(response, names(), ['n1']), { drop: true }, 'responses are never answered');
});

test('an answer too big for UDP is truncated (TC, no records) unless EDNS offers room; over TCP it goes whole', (t) => {
  const many = new NameTable();
  for (let i = 0; i < 60; i++) many.add(`e${i}`, { networkId: 'n1', networkName: 'front', name: `c${i}`, aliases: ['pool'], ipv4: `10.1.0.${i + 2}` });
  const plain = reply(decide(query('pool', Packet.TYPE.A), many, ['n1']));
  t.is(plain.header.tc, 1);
  t.is(plain.answers.length, 0);
  t.is(reply(decide(query('pool', Packet.TYPE.A), many, ['n1'], 'tcp')).answers.length, 60);
  const withEdns = new Packet();
  withEdns.header.id = 9;
  withEdns.questions.push({ name: 'pool', type: Packet.TYPE.A, class: Packet.CLASS.IN } as never);
  withEdns.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: 4096 }) as never);
  const big = reply(decide(withEdns.toBuffer(), many, ['n1']));
  t.is(big.header.tc, 0);
  t.is(big.answers.length, 60);
  t.true(big.additionals.some((r) => r.type === Packet.TYPE.EDNS), 'an EDNS query gets an OPT back');
});

