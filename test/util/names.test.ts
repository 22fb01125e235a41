// The names users give networks, containers and aliases: Docker's characters, at most 63 of them
// (a DNS label), and refusals that say what is wrong without echoing a huge name.
import test from 'ava';
import { invalidNameMessage, MAX_NAME_LENGTH, nameProblem } from '../../src/util/names';

test("Docker's characters, 1 to 63 of them", (t) => {
  for (const name of ['web', 'a', 'Web-1.front_2', '0', 'a'.repeat(63), 'a..b', 'web.']) t.is(nameProblem(name), undefined, name);
  for (const name of ['', '-web', '_web', '.web', 'a b', 'é', 'web/1', 'a\nb']) t.is(nameProblem(name), 'characters', JSON.stringify(name));
  for (const name of ['a'.repeat(64), 'n'.repeat(70_000), `-${'a'.repeat(63)}`]) t.is(nameProblem(name), 'length', `${name.length} characters`);
  t.is(MAX_NAME_LENGTH, 63);
});

test('messages say what is wrong and what to do; a long name is cut short, with its length', (t) => {
  t.is(invalidNameMessage('network alias', 'a b', 'characters'), 'invalid network alias "a b": use letters, digits, "_", "." and "-", starting with a letter or digit');
  const long = invalidNameMessage('network name', 'n'.repeat(70_000), 'length');
  t.is(long, `invalid network name "${'n'.repeat(32)}"… (70000 characters): at most 63 characters are allowed (the embedded DNS answers with it, and a DNS label holds 63); choose a shorter one`);
});
