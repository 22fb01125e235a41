import test from 'ava';
import { BACKOFF_RESET_RUN_MS, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, nextBackoffMs, parseRestartFlag, restartPolicyProblem, shouldRestart } from '../../src/launcher/restart-policy';

test("restart policies are checked with dockerd's messages", (t) => {
  t.is(restartPolicyProblem('always', 0), undefined);
  t.is(restartPolicyProblem('on-failure', 0), undefined);
  t.is(restartPolicyProblem('on-failure', 5), undefined);
  t.is(restartPolicyProblem('', 3), undefined, 'an empty name is none, whatever its count (as dockerd)');
  t.is(restartPolicyProblem('always', 2), "maximum retry count cannot be used with restart policy 'always'");
  t.is(restartPolicyProblem('unless-stopped', 1), "maximum retry count cannot be used with restart policy 'unless-stopped'");
  t.is(restartPolicyProblem('no', 1), "maximum retry count cannot be used with restart policy 'no'");
  t.is(restartPolicyProblem('on-failure', -1), 'maximum retry count cannot be negative');
  t.is(restartPolicyProblem('bogus', 0), "invalid restart policy 'bogus'");
});

test('--restart flags: name and optional count', (t) => {
  t.deepEqual(parseRestartFlag('on-failure:2'), { name: 'on-failure', maximumRetryCount: 2 });
  t.deepEqual(parseRestartFlag('on-failure'), { name: 'on-failure', maximumRetryCount: 0 });
  t.deepEqual(parseRestartFlag('always'), { name: 'always', maximumRetryCount: 0 });
  t.deepEqual(parseRestartFlag('no'), { name: 'no', maximumRetryCount: 0 });
  t.throws(() => parseRestartFlag('on-failure:x'), { message: /maximum retry count must be an integer/ });
  t.throws(() => parseRestartFlag('always:3'), { message: /cannot be used with restart policy 'always'/ });
  t.throws(() => parseRestartFlag('sometimes'), { message: /invalid restart policy 'sometimes'/ });
  t.throws(() => parseRestartFlag('on-failure:1:2'), { message: /invalid restart policy format/ });
});

test('which exits restart: always and unless-stopped whatever the code, on-failure on failures while retries remain', (t) => {
  const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({ exitCode, restartCount, manuallyStopped });
  t.false(shouldRestart(undefined, exit(1)));
  t.false(shouldRestart({ name: 'no', maximumRetryCount: 0 }, exit(1)));
  t.true(shouldRestart({ name: 'always', maximumRetryCount: 0 }, exit(0)));
  t.true(shouldRestart({ name: 'always', maximumRetryCount: 0 }, exit(0, 50, true)), 'always restarts at the daemon start even after a stop');
  t.true(shouldRestart({ name: 'unless-stopped', maximumRetryCount: 0 }, exit(0)));
  t.false(shouldRestart({ name: 'unless-stopped', maximumRetryCount: 0 }, exit(137, 0, true)));
  const onFailure2 = { name: 'on-failure', maximumRetryCount: 2 } as const;
  t.false(shouldRestart(onFailure2, exit(0)));
  t.true(shouldRestart(onFailure2, exit(3, 0)));
  t.true(shouldRestart(onFailure2, exit(3, 1)));
  t.false(shouldRestart(onFailure2, exit(3, 2)), 'two restarts were allowed');
  t.true(shouldRestart({ name: 'on-failure', maximumRetryCount: 0 }, exit(1, 1000)), '0 is no limit');
});

test("the backoff doubles from 100 ms up to a minute, and starts over after a run of 10 s", (t) => {
  const waits: number[] = [];
  let last = 0;
  for (let i = 0; i < 14; i++) waits.push((last = nextBackoffMs(last, 50)));
  t.deepEqual(waits.slice(0, 4), [FIRST_BACKOFF_MS, 200, 400, 800]);
  t.is(waits[9], 51_200);
  t.is(waits[10], MAX_BACKOFF_MS);
  t.is(waits[13], MAX_BACKOFF_MS);
  t.is(nextBackoffMs(MAX_BACKOFF_MS, BACKOFF_RESET_RUN_MS), FIRST_BACKOFF_MS);
  t.is(nextBackoffMs(800, BACKOFF_RESET_RUN_MS - 1), 1600);
});
