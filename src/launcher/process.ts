// Processes of the host by PID and start time, so a recycled PID is never taken for the
// container's: /proc/PID/stat field 22 is the start time in clock ticks since boot.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native/addon';

/** A process as the launcher records it: its PID and when it started. */
export interface ProcessRef {
  pid: number;
  startTicks: number;
}

/** Fields 3 on of /proc/PID/stat (state first); undefined when there is no such process. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function startTicksOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields === undefined ? undefined : Number(fields[19]);
}

/** True when `pid` runs (a zombie has ended) and is the process that started at `startTicks`. */
export function isAlive(pid: number, startTicks: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[19]) === startTicks;
}

/**
 * Calls `onExit` once the process has ended (it need not be a child of this one). Returns how to
 * stop watching, or undefined when the process has ended already.
 */
export function watchExit(process: ProcessRef, onExit: () => void): { close(): void } | undefined {
  let watch;
  try {
    watch = new (native().ProcessExitWatch)(process.pid);
  } catch (error) {
    // ENOENT: the PID is now a thread of another process (Linux ≥ 6.9 says so for non-leaders).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'ENOENT') return undefined;
    throw error;
  }
  // The pidfd names whatever had the PID when it was opened: the start time says whether that is ours.
  if (!isAlive(process.pid, process.startTicks)) {
    watch.close();
    return undefined;
  }
  watch.start(onExit);
  return watch;
}

/** What a shim wrote to STATE_DIR/pids: itself once detached, and its command once that runs. */
export function readShimPids(stateDir: string): { shim: ProcessRef; command?: ProcessRef } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(stateDir, 'pids'), 'utf8');
  } catch {
    return undefined;
  }
  const numbers = text.trim().split(' ').map(Number);
  if (!(numbers.length === 2 || numbers.length === 4) || !numbers.every((n) => Number.isSafeInteger(n) && n > 0)) return undefined;
  const [shimPid, shimTicks, commandPid, commandTicks] = numbers as [number, number, number?, number?];
  return { shim: { pid: shimPid, startTicks: shimTicks }, ...(commandPid !== undefined ? { command: { pid: commandPid, startTicks: commandTicks! } } : {}) };
}
