// Watching a process by PID when the PID no longer names the process that was recorded.
import test from 'ava';
import fs from 'node:fs';
import { startTicksOf, watchExit } from '../../src/launcher/process';

test('watchExit of a PID that is now a thread of another process is no watch, not an error', (t) => {
  // A thread of this process stands for a recorded PID the kernel has since given to a thread.
  const thread = fs.readdirSync('/proc/self/task').map(Number).find((tid) => tid !== process.pid);
  if (thread === undefined) return t.pass('this process has no other thread to try');
  t.is(watchExit({ pid: thread, startTicks: startTicksOf(process.pid) ?? 0 }, () => t.fail('no exit to report')), undefined);
});

test('watchExit of a PID no process has is no watch', (t) => {
  // PIDs above pid_max are never handed out.
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  t.is(watchExit({ pid: pidMax + 1, startTicks: 1 }, () => t.fail('no exit to report')), undefined);
});
