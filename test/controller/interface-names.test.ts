// Interface names in a sandbox and the index the core suggests for them: pure.
import test from 'ava';
import { nextInterfaceName, preferredIndex } from '../../src/controller/interface-names';

test('the next name is the prefix and its lowest free index; other prefixes do not count', (t) => {
  t.is(nextInterfaceName('eth', new Set()), 'eth0');
  t.is(nextInterfaceName('eth', new Set(['eth0', 'eth1'])), 'eth2');
  t.is(nextInterfaceName('eth', new Set(['eth0', 'eth2'])), 'eth1', 'a gap left by a disconnect is reused');
  t.is(nextInterfaceName('wan', new Set(['eth0', 'eth1'])), 'wan0');
  t.is(nextInterfaceName('wan', new Set(['eth0', 'wan0'])), 'wan1');
  t.is(nextInterfaceName('eth', new Set(['eth00', 'eth01'])), 'eth0', 'names that only look alike are not taken');
});

test('the preferred index is two past the name’s number (lo is 1); none for a name without one', (t) => {
  t.is(preferredIndex('eth0'), 2);
  t.is(preferredIndex('eth1'), 3);
  t.is(preferredIndex('wan12'), 14);
  t.is(preferredIndex('my_if-3'), 5);
  t.is(preferredIndex('eth'), undefined);
  t.is(preferredIndex('eth12345'), undefined, 'a number past four digits is no index to suggest');
  t.is(preferredIndex('0'), undefined);
  t.is(preferredIndex(''), undefined);
});
