// One daemon per root: a second one would fight the first over the store and the kernel state.
import fs from 'node:fs';

export class DaemonAlreadyRunningError extends Error {
  override readonly name = 'DaemonAlreadyRunningError';
  constructor(
    readonly pidFile: string,
    readonly pid: number,
  ) {
    super(`another netctl daemon (pid ${pid}) is running with this root (${pidFile}); stop it first or pass a different --root`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the pid file, replacing one left by a dead process. */
export function claimPidFile(pidFile: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DaemonAlreadyRunningError(pidFile, pid);
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
