// The number an embedder's marks come from: drawn once, away from marks another controller's
// objects carry on the host, and kept in the store.
import test from 'ava';
import { controllerIdentity } from '../../src/controller/identity';
import { LocalStore } from '../../src/store/sqlite';

test('a number whose marks are in use is drawn again; the one kept is returned from then on without asking', async (t) => {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  const asked: number[] = [];
  const identity = await controllerIdentity(store, async (candidate) => asked.push(candidate) < 3);
  t.is(asked.length, 3, 'two numbers in use, the third free');
  t.is(identity, asked[2]);
  t.is(await controllerIdentity(store, async () => t.fail('a kept number is not checked again')), identity);
});

test('drawing stops after a bound when every number seems in use', async (t) => {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  let asked = 0;
  const identity = await controllerIdentity(store, async () => (asked++, true));
  t.is(asked, 63);
  t.true(Number.isInteger(identity) && identity >= 0 && identity <= 0xffff);
});
