// Lifeguard's suspicion timer on virtual time: the maximum timeout without confirmations, shorter
// with each independent one, the minimum once k arrived.
import test from 'ava';
import { baseSuspicionTimeoutMs, Suspicion, suspicionTimeoutMs } from '../../src/cluster/suspicion';
import { VirtualClock } from '../../src/cluster/virtual-clock';

test('timeout formula: max with none, log-scaled in between, min at k', (t) => {
  t.is(suspicionTimeoutMs(0, 3, 2000, 30_000), 30_000);
  t.is(suspicionTimeoutMs(1, 3, 2000, 30_000), 16_000);
  t.is(suspicionTimeoutMs(2, 3, 2000, 30_000), 7_810);
  t.is(suspicionTimeoutMs(3, 3, 2000, 30_000), 2000);
  t.is(suspicionTimeoutMs(5, 0, 2000, 30_000), 2000);
});

test('the base timeout grows with log10 of the cluster size', (t) => {
  t.is(baseSuspicionTimeoutMs(4, 1, 1000), 4000);
  t.is(baseSuspicionTimeoutMs(4, 10, 1000), 4000);
  t.is(baseSuspicionTimeoutMs(4, 100, 1000), 8000);
});

async function firedAt(confirmAt: [number, string][], k = 3): Promise<{ at: number | undefined; confirmations: number }> {
  const clock = new VirtualClock();
  let at: number | undefined;
  let confirmations = -1;
  const suspicion = new Suspicion(clock, 'origin', k, 2000, 30_000, (n) => {
    at = clock.now();
    confirmations = n;
  });
  for (const [time, from] of confirmAt) {
    await clock.advance(time - clock.now());
    suspicion.confirm(from);
  }
  await clock.advance(40_000);
  return { at, confirmations };
}

test('without confirmations it fires at the maximum', async (t) => {
  t.deepEqual(await firedAt([]), { at: 30_000, confirmations: 0 });
});

test('each independent confirmation shortens the remaining time', async (t) => {
  t.deepEqual(await firedAt([[1000, 'b']]), { at: 16_000, confirmations: 1 });
  t.deepEqual(await firedAt([[1000, 'b'], [2000, 'c']]), { at: 7_810, confirmations: 2 });
  t.deepEqual(await firedAt([[1000, 'b'], [2000, 'c'], [3000, 'd']]), { at: 3000, confirmations: 3 });
});

test('repeats, the origin and confirmations beyond k do not count', async (t) => {
  t.deepEqual(await firedAt([[1000, 'b'], [1500, 'b'], [1600, 'origin']]), { at: 16_000, confirmations: 1 });
  t.deepEqual(await firedAt([[1000, 'b'], [1100, 'c'], [1200, 'd']], 1), { at: 2000, confirmations: 1 });
});

test('a confirmation after the new timeout has passed fires at once; cancel stops it', async (t) => {
  t.deepEqual(await firedAt([[20_000, 'b']]), { at: 20_000, confirmations: 1 });
  const clock = new VirtualClock();
  let fired = false;
  const suspicion = new Suspicion(clock, 'a', 3, 10, 100, () => (fired = true));
  suspicion.cancel();
  await clock.advance(1000);
  t.false(fired);
  t.false(suspicion.confirm('b'));
});
