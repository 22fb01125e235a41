// What a container's /etc/resolv.conf gets from the host's: loopback resolvers are unreachable
// from the container's own namespace, so they go, and with none left Docker's fallback is used.
import test from 'ava';
import { containerResolvConf } from '../../src/launcher/etc-files';

const HOST = 'search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\noptions edns0\n';

test('without the embedded DNS: loopback nameservers are dropped, the rest kept', (t) => {
  t.is(containerResolvConf(HOST, false), 'nameserver 192.0.2.53\nsearch example.org\noptions edns0\n');
});

test('with only loopback nameservers (systemd-resolved), the public fallback is used', (t) => {
  t.is(containerResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\n', false), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\n');
  t.is(containerResolvConf('', false), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
});

test('with the embedded DNS: 127.0.0.11, the host\'s search domains, ndots:0', (t) => {
  t.is(containerResolvConf(HOST, true), 'nameserver 127.0.0.11\nsearch example.org\noptions ndots:0\n');
});

test('--dns, --dns-search and --dns-option replace what the host says (--dns only where there is no embedded DNS)', (t) => {
  const settings = { servers: ['192.0.2.1'], search: ['a.test', 'b.test'], options: ['ndots:2', 'timeout:1'] };
  t.is(containerResolvConf(HOST, false, settings), 'nameserver 192.0.2.1\nsearch a.test b.test\noptions ndots:2 timeout:1\n');
  t.is(containerResolvConf(HOST, true, settings), 'nameserver 127.0.0.11\nsearch a.test b.test\noptions ndots:2 timeout:1\n');
});

test('--dns-search "." means no search domains, not the host\'s; a final dot is dropped', (t) => {
  t.is(containerResolvConf(HOST, false, { search: ['.'] }), 'nameserver 192.0.2.53\noptions edns0\n');
  t.is(containerResolvConf(HOST, false, { search: ['a.test.', '.'] }), 'nameserver 192.0.2.53\nsearch a.test\noptions edns0\n');
});
