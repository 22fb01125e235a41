// Which resolvers the embedded DNS forwards to, read from a resolv.conf as libc reads it.
import test from 'ava';
import { upstreamsOf } from '../../src/dns/forwarder';

test('the first three nameservers, scope IDs dropped, anything not an address skipped', (t) => {
  const conf = 'search example.org\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver resolver.example\n  nameserver 127.0.0.53\nnameserver 192.0.2.4\n';
  t.deepEqual(upstreamsOf(conf), [
    { address: '192.0.2.1', port: 53 },
    { address: 'fe80::1', port: 53 },
    { address: '127.0.0.53', port: 53 },
  ]);
  t.deepEqual(upstreamsOf('# none\n'), []);
});
