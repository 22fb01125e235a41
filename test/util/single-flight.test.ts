// SingleFlight: concurrent callers of one key share one run; other keys and later calls run anew.
import test from 'ava';
import { SingleFlight } from '../../src/util/single-flight';

test('callers of one key while it runs share its outcome; a call after it ends runs again', async (t) => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  let finish!: (value: number) => void;
  const task = () => {
    runs++;
    return new Promise<number>((resolve) => (finish = resolve));
  };
  const first = flight.run('a', task);
  const second = flight.run('a', task);
  t.is(runs, 1);
  finish(7);
  t.deepEqual(await Promise.all([first, second]), [7, 7]);
  const third = flight.run('a', task);
  t.is(runs, 2);
  finish(8);
  t.is(await third, 8);
});

test('a failure reaches every caller of that run and does not stick; keys are independent', async (t) => {
  const flight = new SingleFlight();
  let runs = 0;
  const failing = async () => {
    runs++;
    await Promise.resolve();
    throw new Error('boom');
  };
  const calls = [flight.run('a', failing), flight.run('a', failing)];
  const other = flight.run('b', async () => undefined);
  for (const call of calls) await t.throwsAsync(call, { message: 'boom' });
  await other;
  t.is(runs, 1);
  await t.throwsAsync(flight.run('a', failing), { message: 'boom' });
  t.is(runs, 2);
});
