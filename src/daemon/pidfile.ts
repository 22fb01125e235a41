// One daemon per root: a second one would fight the first over the store and the kernel state.
// The pid file holds the PID alone, as Docker's does (scripts read it); a process with that PID
// counts as the daemon only if it started before the file was written, so a PID reused by another
// process after a crash is not taken for a running daemon.
import fs from 'node:fs';
import { startTicksOf } from '../launcher/process';

export class DaemonAlreadyRunningError extends Error {
  override readonly name = 'DaemonAlreadyRunningError';
  constructor(
    readonly pidFile: string,
    readonly pid: number,
  ) {
    super(`another netctl daemon (pid ${pid}) is running with this root (${pidFile}); stop it first or pass a different --root`);
  }
}

/** Clock ticks per second of /proc/PID/stat's start time (USER_HZ: 100 on every Linux architecture netctl runs on). */
const TICKS_PER_SECOND = 100;

/** When the process started, in seconds since the epoch; undefined when it does not run. */
function startedAt(pid: number): number | undefined {
  const ticks = startTicksOf(pid);
  if (ticks === undefined) return undefined;
  const bootTime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
  return bootTime + ticks / TICKS_PER_SECOND;
}

/** The PID of the daemon the pid file names, if that daemon still runs. */
function liveHolder(pidFile: string): number | undefined {
  let pid: number;
  let written: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
    written = fs.statSync(pidFile).mtimeMs / 1000;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // its daemon just let go of it
    throw error;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  const started = startedAt(pid);
  // A second of slack for the clock's granularity: a daemon writes its file after it starts.
  return started !== undefined && started <= written + 1 ? pid : undefined;
}

/** Claims the pid file, replacing one left by a dead process. */
export function claimPidFile(pidFile: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = liveHolder(pidFile);
      if (holder !== undefined) throw new DaemonAlreadyRunningError(pidFile, holder);
      fs.rmSync(pidFile, { force: true });
    }
  }
  throw new Error(`could not claim ${pidFile}: it keeps reappearing; is another daemon starting?`);
}

export function releasePidFile(pidFile: string): void {
  try {
    if (Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10) === process.pid) fs.rmSync(pidFile);
  } catch {
    // Already gone: nothing to release.
  }
}
