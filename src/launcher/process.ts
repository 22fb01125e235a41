// Processes of the host by PID and start time, so a recycled PID is never taken for the
// container's: /proc/PID/stat field 22 is the start time in clock ticks since boot.
import fs from 'node:fs';

export function startTicksOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and is the process that started at `startTicks`. */
export function isAlive(pid: number, startTicks: number): boolean {
  return startTicksOf(pid) === startTicks;
}
