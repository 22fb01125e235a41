// Docker-style random container names, without root.
import test from 'ava';
import { freeRandomName, randomName } from '../../src/launcher/random-name';
import { nameProblem } from '../../src/util/names';

test('a random name is adjective_surname, valid as a container name', (t) => {
  for (let i = 0; i < 200; i++) {
    const name = randomName();
    t.regex(name, /^[a-z]+_[a-z]+$/);
    t.is(nameProblem(name), undefined, name);
  }
});

test('names vary', (t) => {
  const seen = new Set(Array.from({ length: 50 }, () => randomName()));
  t.true(seen.size > 10);
});

test('a taken name is drawn again with a digit, as Docker does', (t) => {
  const tried: string[] = [];
  const name = freeRandomName((candidate) => { tried.push(candidate); return tried.length <= 3; }, 'fallback', () => 3);
  t.is(tried.length, 4);
  t.regex(tried[0]!, /^[a-z]+_[a-z]+$/);
  t.regex(name, /^[a-z]+_[a-z]+3$/);
});

test('when every name is taken the fallback is used, after a bounded number of attempts', (t) => {
  let attempts = 0;
  t.is(freeRandomName(() => { attempts++; return true; }, '0123456789ab'), '0123456789ab');
  t.is(attempts, 6);
});
