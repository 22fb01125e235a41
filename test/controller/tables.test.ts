// The cluster's tables as the core handles them: entries kept in an endpoint's record so they can
// be withdrawn after a restart, and events handed to the driver that registered the table for the
// network. Pure, then through the controller over a scripted driver (no root).
import test from 'ava';
import { storedEntries, tableEntries, TableRegistrations } from '../../src/controller/tables';
import { type DnsServer, NameTable } from '../../src/dns';
import type { PublishedNames, TableEvent } from '../../src/drivers/driver';
import { openCore } from '../helpers/core';
import { ScriptedDriver } from '../helpers/scripted-driver';

const event = (networkId: string, table: string, key = 'k'): TableEvent => ({ type: 'create', networkId, table, key, value: Buffer.from('v') });

test('stored entries round-trip, binary values included', (t) => {
  const entries = [
    { table: 'endpoint_table', key: 'ep1', value: Buffer.from([0, 255, 10, 13, 0x80]) },
    { table: 'overlay_peers', key: '10.0.0.2', value: Buffer.alloc(0) },
  ];
  const stored = storedEntries(entries);
  t.deepEqual(JSON.parse(JSON.stringify(stored)), stored, 'what the record keeps is plain JSON');
  t.deepEqual(tableEntries(stored), entries);
});

test('an event goes to the driver that registered its table for its network, and nowhere else', async (t) => {
  const registrations = new TableRegistrations();
  const [a, b, deaf] = [new ScriptedDriver({ type: 'a' }), new ScriptedDriver({ type: 'b' }), new ScriptedDriver({ type: 'deaf' })];
  Object.assign(deaf, { eventNotify: undefined });
  registrations.register('n1', 'peers', a);
  registrations.register('n2', 'peers', b);
  registrations.register('n3', 'peers', deaf);
  t.true(await registrations.notify(event('n1', 'peers')));
  t.true(await registrations.notify(event('n2', 'peers', 'x')));
  t.false(await registrations.notify(event('n1', 'other')), 'a table the driver did not register');
  t.false(await registrations.notify(event('n9', 'peers')), 'a network of no registration');
  t.false(await registrations.notify(event('n3', 'peers')), 'a driver that does not listen');
  t.deepEqual(a.callsOf('eventNotify').map((c) => c.args[0]), [event('n1', 'peers')]);
  t.deepEqual(b.callsOf('eventNotify').map((c) => c.args[0]), [event('n2', 'peers', 'x')]);
  registrations.forget('n1');
  t.false(await registrations.notify(event('n1', 'peers')));
  t.true(await registrations.notify(event('n2', 'peers')), 'forgetting one network keeps the others');
});

test('tables a driver registers at createNetwork or at restore get their events until the network is removed', async (t) => {
  const registering = new ScriptedDriver({ script: { createNetwork: (_network, context) => context.registerTable('peers') } });
  const first = await openCore(t, { drivers: [registering] });
  const kept = await first.controller.create({ name: 'kept', driver: 'scripted', ipam: { driver: 'null' } });
  const removed = await first.controller.create({ name: 'removed', driver: 'scripted', ipam: { driver: 'null' } });
  t.true(await first.controller.notifyTableEvent(event(kept.id, 'peers')));
  t.false(await first.controller.notifyTableEvent(event(kept.id, 'unregistered')));
  await first.controller.delete('removed');
  t.false(await first.controller.notifyTableEvent(event(removed.id, 'peers')));
  t.deepEqual(registering.callsOf('eventNotify').map((c) => c.args[0]), [event(kept.id, 'peers')]);
  await first.close();

  const restoring = new ScriptedDriver({
    script: {
      restore: (networks, _endpoints, contextOf) => {
        for (const network of networks) contextOf(network.id).registerTable('peers');
        return { rejoin: [], failed: [] };
      },
    },
  });
  const { controller } = await openCore(t, { store: first.store, drivers: [restoring] });
  t.true(await controller.notifyTableEvent(event(kept.id, 'peers', 'after-restart')));
  t.deepEqual(restoring.callsOf('eventNotify').map((c) => (c.args[0] as TableEvent).key), ['after-restart']);
});

test('names a driver reads in another host\'s entry are served on that network until the entry goes, and all of them when the network does', async (t) => {
  const names = new NameTable();
  const driver = new ScriptedDriver({ script: { createNetwork: (_network, context) => context.registerTable('endpoints') } });
  // The entry's value is the names as JSON; "garbage" cannot be read.
  Object.assign(driver, { namesIn: (table: string, value: Buffer): PublishedNames | undefined => (table === 'endpoints' ? (JSON.parse(value.toString()) as PublishedNames) : undefined) });
  const { controller } = await openCore(t, { drivers: [driver], dns: { names, server: {} as DnsServer } });
  const ov = await controller.create({ name: 'ov', driver: 'scripted', ipam: { driver: 'null' } });
  const other = await controller.create({ name: 'other', driver: 'scripted', ipam: { driver: 'null' } });
  const entry = (type: TableEvent['type'], key: string, value: unknown, networkId = ov.id, table = 'endpoints'): TableEvent => ({ type, networkId, table, key, value: Buffer.from(JSON.stringify(value)) });
  const a = (name: string, networkId = ov.id): string[] => names.lookup(name, [networkId], 'A').addresses;

  t.true(await controller.notifyTableEvent(entry('create', 'ep1', { name: 'web', aliases: ['www'], ipv4: '10.0.0.2', ipv6: 'fd00::2' })));
  t.deepEqual(a('web'), ['10.0.0.2']);
  t.deepEqual(a('www'), ['10.0.0.2'], 'aliases too');
  t.deepEqual(a('web.ov'), ['10.0.0.2'], 'and name.network');
  t.deepEqual(names.lookup('web', [ov.id], 'AAAA').addresses, ['fd00::2']);
  t.deepEqual(names.reverse('10.0.0.2', [ov.id]), ['web.ov'], 'PTR');
  t.deepEqual(a('web', other.id), [], 'only on the network the entry is in');

  await controller.notifyTableEvent(entry('update', 'ep1', { name: 'web', aliases: [], ipv4: '10.0.0.3' }));
  t.deepEqual(a('web'), ['10.0.0.3'], 'an update replaces the names');
  t.deepEqual(a('www'), []);

  await controller.notifyTableEvent(entry('create', 'ep2', { name: 'ignored' }, ov.id, 'unregistered'));
  t.deepEqual(a('ignored'), [], 'a table the driver did not register names nothing');
  t.true(await controller.notifyTableEvent({ type: 'create', networkId: ov.id, table: 'endpoints', key: 'bad', value: Buffer.from('garbage') }), 'an unreadable entry still reaches the driver');

  await controller.notifyTableEvent(entry('delete', 'ep1', { name: 'web', aliases: [], ipv4: '10.0.0.3' }));
  t.deepEqual(a('web'), [], 'a deleted entry takes its names');
  t.deepEqual(names.reverse('10.0.0.3', [ov.id]), []);

  await controller.notifyTableEvent(entry('create', 'ep3', { name: 'db', aliases: [], ipv4: '10.0.0.4' }));
  t.deepEqual(a('db'), ['10.0.0.4']);
  await controller.delete('ov');
  t.deepEqual(a('db'), [], 'the network removed here takes the names other hosts gave it');
});
