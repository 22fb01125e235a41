// Docker's own CLI against a netctl daemon in a fresh test host.
import type { ExecutionContext } from 'ava';
import { runner } from './cli';
import { daemonWithCli } from './containers';
import { createTestNamespace } from './netns';

/** A daemon in a test host named from `prefix` (`host`), `docker` pointed at it, and `ok`: a docker command that must succeed (its stdout, trimmed). */
export async function dockerAgainst(t: ExecutionContext, prefix: string, daemonArgs?: string[]) {
  const host = createTestNamespace(t, prefix);
  const { daemon } = await daemonWithCli(t, { netns: host.path, ...(daemonArgs ? { args: daemonArgs } : {}) });
  const docker = runner(['docker', '-H', `unix://${daemon.socketPath}`], {}, 30_000);
  const ok = async (args: string[]): Promise<string> => {
    const result = await docker(args);
    t.is(result.code, 0, `docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  return { host, daemon, docker, ok };
}
