// Test hosts: uniquely named network namespaces (`ip netns add`, visible at /run/netns/NAME)
// that are removed after the test, also when it fails. Test files may run in parallel: names are
// random, and nothing here touches the root namespace's links, routes or firewall.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';

export interface TestNamespace {
  name: string;
  /** /run/netns/NAME, for nsenter --net= and for netctl's netns options. */
  path: string;
  /** Runs a command inside the namespace and returns its stdout. */
  run(...command: string[]): string;
  /** Runs an iproute2 command with -j inside the namespace and parses its JSON. */
  json<T = unknown>(...command: string[]): T;
  /** Removes the namespace now (teardown does it otherwise); idempotent. */
  remove(): void;
}

/** Namespaces of this process not yet removed: the exit hook takes what a crash left. */
const live = new Set<string>();

function removeNamespace(name: string): void {
  if (!live.delete(name)) return;
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
  } catch (error) {
    // A test may have removed it itself; anything else is a leak worth failing on.
    if (fs.existsSync(`/run/netns/${name}`)) throw error;
  }
}

// AVA runs teardowns even for failed tests, but a timed-out or crashed worker exits without them.
process.once('exit', () => {
  for (const name of [...live]) {
    try {
      removeNamespace(name);
    } catch {
      // Best effort while exiting.
    }
  }
});

export function createTestNamespace(t: { teardown(fn: () => void): void }, prefix = 'nctl'): TestNamespace {
  const name = `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  live.add(name);
  t.teardown(() => removeNamespace(name));
  const path = `/run/netns/${name}`;
  const run = (...command: string[]): string => execFileSync('nsenter', [`--net=${path}`, ...command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    name,
    path,
    run,
    json: <T>(...command: string[]): T => {
      const out = run(command[0]!, '-j', ...command.slice(1)).trim();
      return (out === '' ? [] : JSON.parse(out)) as T;
    },
    remove: () => removeNamespace(name),
  };
}
