// Docker's restart policies (HostConfig.RestartPolicy) and its restart manager's decisions, as
// dockerd 20.10 takes them (restartmanager/restartmanager.go): whether an exit restarts the
// container, and after how long.

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: the restarts allowed, 0 for no limit. */
  maximumRetryCount: number;
}

/** The first wait before a restart; each further restart waits twice the last, up to the cap. */
export const FIRST_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 60_000;
/** A run at least this long starts the backoff over. */
export const BACKOFF_RESET_RUN_MS = 10_000;

/**
 * Docker's check of a policy, with dockerd's messages; undefined when it is valid. An empty name
 * is none, whatever its count (dockerd accepts it so).
 */
export function restartPolicyProblem(name: string, maximumRetryCount: number): string | undefined {
  switch (name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      return maximumRetryCount !== 0 ? `maximum retry count cannot be used with restart policy '${name}'` : undefined;
    case 'on-failure':
      return maximumRetryCount < 0 ? 'maximum retry count cannot be negative' : undefined;
    case '':
      return undefined;
    default:
      return `invalid restart policy '${name}'`;
  }
}

/** `--restart no|always|unless-stopped|on-failure[:N]`; throws a message saying what is wrong. */
export function parseRestartFlag(text: string): RestartPolicy {
  const [name = '', count, ...rest] = text.split(':');
  if (rest.length > 0) throw new Error(`invalid restart policy format "${text}": use no, always, unless-stopped or on-failure[:N]`);
  if (count !== undefined && !/^\d+$/.test(count)) throw new Error(`invalid restart policy format "${text}": maximum retry count must be an integer`);
  const maximumRetryCount = count === undefined ? 0 : Number(count);
  const problem = restartPolicyProblem(name, maximumRetryCount);
  if (problem) throw new Error(problem);
  return { name: (name || 'no') as RestartPolicyName, maximumRetryCount };
}

export interface ExitFacts {
  exitCode: number;
  /** The restarts so far (Docker's RestartCount). */
  restartCount: number;
  /** Stopped or killed by the user since its last start (Docker's HasBeenManuallyStopped). */
  manuallyStopped: boolean;
}

/**
 * Whether the policy starts the container again after an exit, or at the daemon's start (where
 * dockerd asks the same question): always does even after a manual stop; unless-stopped unless
 * stopped by the user; on-failure after a non-zero exit while restarts remain.
 */
export function shouldRestart(policy: RestartPolicy | undefined, facts: ExitFacts): boolean {
  switch (policy?.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !facts.manuallyStopped;
    case 'on-failure':
      return facts.exitCode !== 0 && (policy.maximumRetryCount === 0 || facts.restartCount < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** The wait before the next restart, from the last one (0 for none yet) and how long the run lasted. */
export function nextBackoffMs(lastBackoffMs: number, runMs: number): number {
  const last = runMs >= BACKOFF_RESET_RUN_MS ? 0 : lastBackoffMs;
  return last === 0 ? FIRST_BACKOFF_MS : Math.min(last * 2, MAX_BACKOFF_MS);
}
