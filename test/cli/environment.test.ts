// `-e NAME` without a value takes NAME from the client's environment, as Docker's CLI does.
import test from 'ava';
import { environmentFromClient } from '../../src/cli/container-command';

test('-e NAME takes the shell\'s value; NAME=value and a NAME the shell lacks pass as given', (t) => {
  t.deepEqual(environmentFromClient(['HOME', 'A=1', 'NOPE', 'EMPTY', 'B='], { HOME: '/root', EMPTY: '' }), ['HOME=/root', 'A=1', 'NOPE', 'EMPTY=', 'B=']);
});
