import test from 'ava';
import { eventLine, eventTime, humanSize } from '../../src/cli/engine-command';

test('--since/--until: timestamps as given, durations before now, dates in seconds; garbage refused', (t) => {
  const now = 1_700_000_000_000;
  t.is(eventTime('since', '1699999999', now), '1699999999');
  t.is(eventTime('since', '1699999999.25', now), '1699999999.25');
  t.is(eventTime('since', '10m', now), '1699999400.000000000');
  t.is(eventTime('since', '1h30m', now), '1699994600.000000000');
  t.is(eventTime('until', '0s', now), '1700000000.000000000');
  t.is(eventTime('until', '2023-11-14T22:13:20Z', now), '1700000000.000000000');
  t.throws(() => eventTime('since', 'yesterday', now), { message: /invalid value "yesterday" for --since/ });
  t.throws(() => eventTime('since', '10x', now), { message: /--since/ });
});

test("event lines as Docker's CLI prints them: the exact nanoseconds, attributes sorted", (t) => {
  const json = '{"Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"name":"web","exitCode":"3","image":"busybox"}},"scope":"local","time":1700000000,"timeNano":1700000000000000123}';
  t.is(eventLine(JSON.parse(json), json), '2023-11-14T22:13:20.000000123Z container die c1 (exitCode=3, image=busybox, name=web)');
});

test("sizes in Docker's decimal units", (t) => {
  t.is(humanSize(999), '999B');
  t.is(humanSize(1_982_270), '1.98MB');
  t.is(humanSize(12_345), '12.3kB');
  t.is(humanSize(3_000_000_000), '3GB');
});
