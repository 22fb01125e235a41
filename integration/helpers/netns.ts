// Test hosts: uniquely named network namespaces (`ip netns add`, visible at /run/netns/NAME)
// that are removed after the test, also when it fails. Test files may run in parallel.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

export interface TestNamespace {
  name: string;
  /** /run/netns/NAME, for nsenter --net= and for netctl's netns options. */
  path: string;
  /** Runs a command inside the namespace and returns its stdout. */
  run(...command: string[]): string;
  /** Runs an iproute2 command with -j inside the namespace and parses its JSON. */
  json<T = unknown>(...command: string[]): T;
}

export function createTestNamespace(t: { teardown(fn: () => void): void }, prefix = 'nctl'): TestNamespace {
  const name = `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', name]));
  const path = `/run/netns/${name}`;
  const run = (...command: string[]): string => execFileSync('nsenter', [`--net=${path}`, ...command], { encoding: 'utf8' });
  return {
    name,
    path,
    run,
    json: <T>(...command: string[]): T => {
      const out = run(command[0]!, '-j', ...command.slice(1)).trim();
      return (out === '' ? [] : JSON.parse(out)) as T;
    },
  };
}
