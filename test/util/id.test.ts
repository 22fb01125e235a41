// IDs from the pooled random source: Docker's shape, and no repeats across pool refills.
import test from 'ava';
import { newId } from '../../src/util/id';

test('newId gives 64 hex characters, distinct over several refills of the pool', (t) => {
  const ids = Array.from({ length: 1000 }, () => newId());
  t.true(ids.every((id) => /^[0-9a-f]{64}$/.test(id)));
  t.is(new Set(ids).size, ids.length);
});
