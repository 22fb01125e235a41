// Throwaway test hosts for benchmarks: removed on exit, also after a failure or Ctrl-C.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const made = new Set<string>();

function removeAll(): void {
  for (const name of made) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
  made.clear();
}

process.once('exit', removeAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    removeAll();
    process.exit(130);
  });
}

/** Creates a namespace and returns its name (the path is /run/netns/NAME). */
export function benchNamespace(prefix: string): string {
  const name = `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  made.add(name);
  return name;
}

export function removeNamespace(name: string): void {
  execFileSync('ip', ['netns', 'del', name]);
  made.delete(name);
}
