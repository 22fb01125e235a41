// A log follower wakes when the log changes, not on a timer: with an interval far beyond the
// test's own timeout, only the file's change (inotify) or the client leaving can end a wait.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogWake } from '../../src/api/log-wake';

const HOUR_MS = 3_600_000;

test('a wait ends when the file is appended to, and a change made between waits is not lost', async (t) => {
  t.timeout(10_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-wake-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'log');
  fs.writeFileSync(file, '');
  const wake = new LogWake(file, { checkMs: HOUR_MS });
  t.teardown(() => wake.close());
  const first = wake.next();
  fs.appendFileSync(file, 'one');
  await first;
  fs.appendFileSync(file, 'two');
  // Give inotify the time to report it before the next wait begins.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await wake.next();
  t.pass();
});

test('the end of the run ends a wait, and the subscription goes with the wake', async (t) => {
  t.timeout(10_000);
  let listener: (() => void) | undefined;
  const wake = new LogWake(path.join(os.tmpdir(), 'nctl-wake-missing', 'log'), { checkMs: HOUR_MS, runEnded: (l) => ((listener = l), () => void (listener = undefined)) });
  const waiting = wake.next();
  listener!();
  await waiting;
  wake.close();
  t.is(listener, undefined);
});

test('the client leaving ends a wait; a file that is not there yet leaves the interval alone', async (t) => {
  t.timeout(10_000);
  let leave = (): void => {};
  const gone = new Promise<void>((resolve) => (leave = resolve));
  const wake = new LogWake(path.join(os.tmpdir(), 'nctl-wake-missing', 'log'), { stop: gone, checkMs: HOUR_MS });
  t.teardown(() => wake.close());
  const waiting = wake.next();
  leave();
  await waiting;
  const short = new LogWake(path.join(os.tmpdir(), 'nctl-wake-missing', 'log'), { checkMs: 20 });
  await short.next();
  short.close();
  t.pass();
});
