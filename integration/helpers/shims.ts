// Containers outlive their daemon by design, so a test that fails half-way could leave them
// running: this finds the shims of a daemon root (by their command line) and kills them with
// their containers.
import fs from 'node:fs';

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A container shim's state dir: its first argument after the options (`netctl-shim [OPTIONS] [--] STATE_DIR ...`). */
function stateDirOf(argv: string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    if (['--caps', '--env-file', '--seccomp-cache'].includes(argv[i]!)) i++;
    else if (argv[i] === '--') return argv[i + 1];
    else if (!argv[i]!.startsWith('--')) return argv[i];
  }
  return undefined;
}

/** PIDs of running netctl-shims (detached copies, or children before exec) whose state dir passes `matches`. */
export function shimPids(matches: (stateDir: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const stateDir = argv[0]?.endsWith('netctl-shim') ? stateDirOf(argv) : undefined;
    if (stateDir !== undefined && matches(stateDir)) pids.push(Number(entry));
  }
  return pids;
}

export function killContainersUnder(root: string): void {
  for (const shim of shimPids((stateDir) => stateDir.startsWith(`${root}/`))) {
    for (const pid of [...childrenOf(shim), shim]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}
