// The MAC an endpoint gets by default, and the form a requested one must have: pure.
import test from 'ava';
import { MAC, macFor } from '../../src/controller/mac';

test("Docker's MAC for an endpoint with IPv4: 02:42 and the address's four bytes", (t) => {
  t.is(macFor('10.71.0.2/24'), '02:42:0a:47:00:02');
  t.is(macFor('172.17.255.254/16'), '02:42:ac:11:ff:fe');
  t.is(macFor('10.71.0.2/24'), macFor('10.71.0.2/16'), 'the prefix length does not matter: a reused address keeps its MAC');
});

test('without IPv4 the MAC is random, locally administered and unicast (02:42 and four random bytes)', (t) => {
  const macs = new Set(Array.from({ length: 20 }, () => macFor(undefined)));
  for (const mac of macs) t.regex(mac, /^02:42(:[0-9a-f]{2}){4}$/);
  t.true(macs.size > 1, 'random, not one fixed MAC');
});

test('a requested MAC is six hex pairs separated by colons, either case', (t) => {
  for (const good of ['02:42:ac:11:00:02', 'AA:BB:CC:DD:EE:FF']) t.true(MAC.test(good), good);
  for (const bad of ['02:42:ac:11:00', '02-42-ac-11-00-02', '02:42:ac:11:00:02:03', '0242ac110002', '02:42:ac:11:00:g2', '']) t.false(MAC.test(bad), bad);
});
