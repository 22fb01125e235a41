import test from 'ava';
import { EventBus, eventJson } from '../../src/events/bus';

test('the history keeps the last events up to its bound, oldest first, and past() picks by time', (t) => {
  const bus = new EventBus(3);
  for (const action of ['a', 'b', 'c', 'd']) bus.publish('network', action, 'n1');
  const all = bus.past(0n);
  t.deepEqual(all.map((e) => e.Action), ['b', 'c', 'd']);
  t.true(all[0]!.timeNano < all[1]!.timeNano && all[1]!.timeNano < all[2]!.timeNano, 'times strictly increase');
  t.deepEqual(bus.past(all[1]!.timeNano, all[1]!.timeNano).map((e) => e.Action), ['c']);
  t.deepEqual(bus.past(all[2]!.timeNano + 1n, all[2]!.timeNano + 10n), []);
});

test('subscribers get each event until they unsubscribe', (t) => {
  const bus = new EventBus();
  const seen: string[] = [];
  const unsubscribe = bus.subscribe((e) => seen.push(e.Action));
  t.is(bus.subscribers, 1);
  bus.publish('container', 'create', 'c1');
  unsubscribe();
  bus.publish('container', 'start', 'c1');
  t.deepEqual(seen, ['create']);
  t.is(bus.subscribers, 0);
});

test("eventJson: Docker's fields, timeNano as an exact integer, the legacy status/id/from on container events only", (t) => {
  const bus = new EventBus();
  bus.publish('container', 'die', 'c1', { image: 'busybox', name: 'web', exitCode: '3' });
  bus.publish('network', 'connect', 'n1', { container: 'c1', name: 'lan', type: 'bridge' });
  const [died, connected] = bus.past(0n);
  const line = eventJson(died!);
  t.regex(line, new RegExp(`"timeNano":${died!.timeNano.toString()}}$`));
  const parsed = JSON.parse(line) as Record<string, unknown>;
  t.like(parsed, { status: 'die', id: 'c1', from: 'busybox', Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: { image: 'busybox', name: 'web', exitCode: '3' } }, scope: 'local' });
  t.is(parsed['time'], Number(died!.timeNano / 1_000_000_000n));
  t.true(Math.abs(Number(parsed['time']) - Date.now() / 1000) < 5);
  const network = JSON.parse(eventJson(connected!)) as Record<string, unknown>;
  t.deepEqual(Object.keys(network), ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
});
