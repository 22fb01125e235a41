// The embedded DNS's names and scope, without a network: what a sandbox attached to some
// networks gets for a name, an alias, `name.network`, the other family, and a PTR.
import test from 'ava';
import { NameTable } from '../../src/dns/names';

function table(): NameTable {
  const names = new NameTable();
  names.add('e1', { networkId: 'n1', networkName: 'front', name: 'web', hostname: 'webhost', aliases: ['site'], ipv4: '10.1.0.2' });
  names.add('e2', { networkId: 'n1', networkName: 'front', name: 'web2', aliases: ['site'], ipv4: '10.1.0.3', ipv6: 'fd00:1::3' });
  names.add('e3', { networkId: 'n2', networkName: 'back', name: 'db', aliases: [], ipv4: '10.2.0.2' });
  return names;
}

test('names, hostnames and aliases answer on their network; an alias several share returns every address', (t) => {
  const names = table();
  t.deepEqual(names.lookup('web', ['n1'], 'A'), { known: true, addresses: ['10.1.0.2'] });
  t.deepEqual(names.lookup('webhost', ['n1'], 'A').addresses, ['10.1.0.2']);
  t.deepEqual(names.lookup('site', ['n1'], 'A').addresses.sort(), ['10.1.0.2', '10.1.0.3']);
  const orders = new Set(Array.from({ length: 50 }, () => names.lookup('site', ['n1'], 'A').addresses.join(',')));
  t.is(orders.size, 2, 'shuffled per query');
});

test('case and a trailing dot do not matter; name.network resolves on that network only', (t) => {
  const names = table();
  t.deepEqual(names.lookup('WEB.', ['n1'], 'A').addresses, ['10.1.0.2']);
  t.deepEqual(names.lookup('web.front', ['n1', 'n2'], 'A').addresses, ['10.1.0.2']);
  t.deepEqual(names.lookup('db.Back.', ['n1', 'n2'], 'A').addresses, ['10.2.0.2']);
  t.false(names.lookup('web.back', ['n1', 'n2'], 'A').known, 'web is not on back');
});

test('scope: a sandbox sees only the networks it is attached to', (t) => {
  const names = table();
  t.false(names.lookup('db', ['n1'], 'A').known);
  t.false(names.lookup('db.back', ['n1'], 'A').known);
  t.true(names.lookup('db', ['n2'], 'A').known);
});

test('a known name asked for the other family is known with no address (NOERROR, never forwarded)', (t) => {
  const names = table();
  t.deepEqual(names.lookup('web', ['n1'], 'AAAA'), { known: true, addresses: [] });
  t.deepEqual(names.lookup('web2', ['n1'], 'AAAA'), { known: true, addresses: ['fd00:1::3'] });
  t.deepEqual(names.lookup('nosuch', ['n1'], 'AAAA'), { known: false, addresses: [] });
});

test('PTR answers name.network for addresses in scope; removal takes every name away', (t) => {
  const names = table();
  t.deepEqual(names.reverse('10.1.0.3', ['n1']), ['web2.front']);
  t.deepEqual(names.reverse('fd00:1::3', ['n1']), ['web2.front']);
  t.deepEqual(names.reverse('10.2.0.2', ['n1']), []);
  names.remove('e2');
  t.deepEqual(names.lookup('site', ['n1'], 'A').addresses, ['10.1.0.2']);
  t.false(names.lookup('web2', ['n1'], 'A').known);
  names.remove('e1');
  t.false(names.lookup('web.front', ['n1'], 'A').known);
  names.remove('e1');
});
