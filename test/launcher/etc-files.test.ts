// What a container's /etc/resolv.conf gets from the host's: loopback resolvers are unreachable
// from the container's own namespace, so they go, and with none left Docker's fallback is used.
import test from 'ava';
import { containerResolvConf } from '../../src/launcher/etc-files';

test('loopback nameservers are dropped, the rest kept as written', (t) => {
  const host = 'search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\noptions edns0\n';
  t.is(containerResolvConf(host), 'search example.org\nnameserver 192.0.2.53\noptions edns0\n');
});

test('with only loopback nameservers (systemd-resolved), the public fallback is used', (t) => {
  t.is(containerResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\n'), 'options edns0 trust-ad\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  t.is(containerResolvConf(''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
});
