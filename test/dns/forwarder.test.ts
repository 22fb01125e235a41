// Which resolvers the embedded DNS forwards to, read from a resolv.conf as libc reads it.
import test from 'ava';
import dgram from 'node:dgram';
import { Forwarder, upstreamsOf } from '../../src/dns/forwarder';

test('the first three nameservers, scope IDs dropped, anything not an address skipped', (t) => {
  const conf = 'search example.org\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver resolver.example\n  nameserver 127.0.0.53\nnameserver 192.0.2.4\n';
  t.deepEqual(upstreamsOf(conf), [
    { address: '192.0.2.1', port: 53 },
    { address: 'fe80::1', port: 53 },
    { address: '127.0.0.53', port: 53 },
  ]);
  t.deepEqual(upstreamsOf('# none\n'), []);
});

test('an upstream written as an IPv4-mapped IPv6 address gets its answers (Node reports their source in dotted form)', async (t) => {
  // A resolver on this process's own loopback: an answer is the query with the QR bit set.
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (query, peer) => upstream.send(Buffer.concat([query.subarray(0, 2), Buffer.from([query[2]! | 0x80]), query.subarray(3)]), peer.port, peer.address));
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
  t.teardown(() => upstream.close());
  const forwarder = new Forwarder([{ address: '::ffff:127.0.0.1', port: upstream.address().port }], { timeoutMs: 2000 });
  const query = Buffer.from('abcd01000001000000000000076578616d706c65036f72670000010001', 'hex');
  const answer = await forwarder.forward(query, 'udp');
  t.truthy(answer, 'answered, not dropped as a stray datagram');
  t.is(answer!.readUInt16BE(0), 0xabcd);
});
