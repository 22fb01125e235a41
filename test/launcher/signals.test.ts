// Signals as Docker's kill reads them, without root.
import test from 'ava';
import os from 'node:os';
import { parseSignal } from '../../src/launcher/signals';

test('names in any case, with or without SIG, and numbers from 1 to 64', (t) => {
  const { SIGHUP, SIGUSR1, SIGKILL, SIGCHLD } = os.constants.signals;
  for (const [text, number] of [['HUP', SIGHUP], ['sighup', SIGHUP], ['SigUsr1', SIGUSR1], ['usr1', SIGUSR1], ['KILL', SIGKILL], ['CLD', SIGCHLD], ['1', 1], ['+9', 9], ['064', 64]] as const) {
    t.is(parseSignal(text), number, text);
  }
});

test('real-time signals as Docker names them: RTMIN (34) to RTMIN+15, RTMAX-14 to RTMAX (64)', (t) => {
  t.is(parseSignal('RTMIN'), 34);
  t.is(parseSignal('SIGRTMIN+1'), 35);
  t.is(parseSignal('rtmin+15'), 49);
  t.is(parseSignal('RTMAX-14'), 50);
  t.is(parseSignal('RTMAX-1'), 63);
  t.is(parseSignal('RTMAX'), 64);
});

test('anything else is no signal: unknown names, 0, out-of-range and negative numbers, decimals, padding', (t) => {
  for (const text of ['BOGUS', 'SIGBOGUS', '', 'SIG', '0', '65', '-1', '99999999999999999999', '9.0', '1e1', '0x10', ' HUP', 'HUP ', 'RTMIN+16', 'RTMAX-15', 'RTMIN-1', 'RTMAX+1']) {
    t.is(parseSignal(text), undefined, JSON.stringify(text));
  }
});
