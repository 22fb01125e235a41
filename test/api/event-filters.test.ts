import test from 'ava';
import { eventMatches, parseEventFilters } from '../../src/api/event-filters';
import { parseEventTime } from '../../src/api/events';
import { EventBus, type EngineEvent } from '../../src/events/bus';

const bus = new EventBus();
bus.publish('network', 'create', 'aaaa1111', { name: 'lan', type: 'bridge' });
bus.publish('network', 'connect', 'aaaa1111', { container: 'cccc2222', name: 'lan', type: 'bridge' });
bus.publish('container', 'create', 'cccc2222', { image: 'myimg:v1', name: 'web', tier: 'front' });
bus.publish('container', 'die', 'dddd3333', { image: 'busybox', name: 'db', exitCode: '0' });
bus.publish('image', 'import', 'sha256:eeee', { name: 'sha256:eeee' });
bus.publish('image', 'tag', 'sha256:eeee', { name: 'myimg:v1' });
const events: EngineEvent[] = bus.past(0n);

const pick = (filters: Record<string, string[]>): string[] => {
  const parsed = parseEventFilters(JSON.stringify(filters));
  return events.filter((e) => eventMatches(e, parsed)).map((e) => `${e.Type}:${e.Action}:${e.Actor.ID.slice(0, 11)}`);
};

test('type, event and scope match exactly; several values of one key are alternatives', (t) => {
  t.deepEqual(pick({ type: ['network'] }), ['network:create:aaaa1111', 'network:connect:aaaa1111']);
  t.deepEqual(pick({ event: ['create'] }), ['network:create:aaaa1111', 'container:create:cccc2222']);
  t.deepEqual(pick({ type: ['container'], event: ['create', 'die'] }), ['container:create:cccc2222', 'container:die:dddd3333']);
  t.is(pick({ scope: ['local'] }).length, events.length);
  t.deepEqual(pick({ scope: ['swarm'] }), []);
  t.deepEqual(pick({ type: ['volume'] }), []);
});

test('container and network match the actor by ID prefix or name, as dockerd', (t) => {
  t.deepEqual(pick({ container: ['web'] }), ['container:create:cccc2222']);
  t.deepEqual(pick({ container: ['dddd'] }), ['container:die:dddd3333']);
  t.deepEqual(pick({ network: ['lan'] }), ['network:create:aaaa1111', 'network:connect:aaaa1111']);
  t.deepEqual(pick({ network: ['nope'] }), []);
});

test('image matches by name with or without tag, or ID; label needs every label given', (t) => {
  t.deepEqual(pick({ image: ['myimg'] }), ['container:create:cccc2222', 'image:tag:sha256:eeee']);
  t.deepEqual(pick({ image: ['sha256:eeee'] }), ['image:import:sha256:eeee', 'image:tag:sha256:eeee']);
  t.deepEqual(pick({ label: ['tier=front'] }), ['container:create:cccc2222']);
  t.deepEqual(pick({ label: ['tier=front', 'other'] }), []);
  t.deepEqual(pick({ label: ['tier'] }), ['container:create:cccc2222']);
});

test('unknown keys and types are refused with what is valid', (t) => {
  t.throws(() => parseEventFilters('{"x":{"a":true}}'), { message: /Invalid filter 'x'; valid filters: container, event/ });
  t.throws(() => parseEventFilters('{"type":["bogus"]}'), { message: /Invalid filter 'type=bogus': use one of container, image, network/ });
});

test('event times: Unix seconds with a fraction to the nanosecond, or an RFC 3339 date; anything else is a 400', (t) => {
  t.is(parseEventTime('since', '1700000000'), 1_700_000_000_000_000_000n);
  t.is(parseEventTime('since', '1700000000.5'), 1_700_000_000_500_000_000n);
  t.is(parseEventTime('since', '1700000000.000000001'), 1_700_000_000_000_000_001n);
  t.is(parseEventTime('until', '2023-11-14T22:13:20Z'), 1_700_000_000_000_000_000n);
  const error = t.throws(() => parseEventTime('since', 'abc'));
  t.regex(error.message, /invalid value "abc" for since/);
  t.is((error as Error & { status: number }).status, 400);
  t.throws(() => parseEventTime('until', '10m'), { message: /Unix timestamp/ });
});
