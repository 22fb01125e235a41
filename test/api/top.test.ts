// docker top's answer from ps output, as dockerd builds it: the header's words are the titles,
// the last column keeps its spaces, and only the container's PIDs are kept.
import test from 'ava';
import { ApiError } from '../../src/api/errors';
import { parsePsOutput } from '../../src/api/top';

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 15:00 ?        00:00:01 /sbin/init
root         412     400  0 15:48 ?        00:00:00 sh -c sleep 300 & sleep 301
root         413     412  0 15:48 ?        00:00:00 sleep 300
`;

test('rows of the given PIDs only, the command with its spaces', (t) => {
  t.deepEqual(parsePsOutput(PS_EF, new Set([412, 413])), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '412', '400', '0', '15:48', '?', '00:00:00', 'sh -c sleep 300 & sleep 301'],
      ['root', '413', '412', '0', '15:48', '?', '00:00:00', 'sleep 300'],
    ],
  });
  t.deepEqual(parsePsOutput(PS_EF, new Set([9])).Processes, []);
});

test('ps_args without a PID column are a 400 saying to keep it', (t) => {
  const error = t.throws(() => parsePsOutput('COMMAND\nsleep\n', new Set([1])), { instanceOf: ApiError, message: /Couldn't find PID field in ps output/ });
  t.is(error?.status, 400);
});
