// A container's environment from Docker's Env list, without root.
import test from 'ava';
import { environmentOf, invalidEnvEntry } from '../../src/launcher/environment';

test('KEY=VALUE sets (the value may hold "="), a later entry wins, a bare KEY unsets what came before', (t) => {
  t.deepEqual(environmentOf(['PATH=/bin', 'A=1', 'B=x=y', 'EMPTY=', 'A=2', 'PATH', 'NEVER']), { A: '2', B: 'x=y', EMPTY: '' });
  t.deepEqual(environmentOf(['FOO', 'FOO=back']), { FOO: 'back' });
});

test('prototype keys are plain variables', (t) => {
  const env = environmentOf(['__proto__=x', 'constructor=y']);
  t.deepEqual(Object.entries(env), [['__proto__', 'x'], ['constructor', 'y']]);
  t.is(Object.getPrototypeOf(env), Object.prototype);
});

test('an empty name (Docker’s message) and a NUL are refused; anything else passes', (t) => {
  t.is(invalidEnvEntry('=x'), 'invalid environment variable: =x');
  t.is(invalidEnvEntry(''), 'invalid environment variable: ');
  t.regex(invalidEnvEntry('A=b\0c') ?? '', /^invalid environment variable "A=b\\u0000c": it holds a NUL character/);
  for (const entry of ['A=b', 'FOO', 'A B=1', 'é=ü', 'X=']) t.is(invalidEnvEntry(entry), undefined, entry);
});
