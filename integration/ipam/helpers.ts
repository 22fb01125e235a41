// Runs allocator-process.js and collects its acknowledged results.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'allocator-process.js');

export interface Allocator {
  process: ChildProcess;
  /** Results acknowledged so far (each line printed after its allocation returned). */
  results: string[];
  /** Resolves when the process exits, with its code. */
  done: Promise<number | null>;
  stderr(): string;
}

export function startAllocator(t: { teardown(fn: () => void): void }, args: string[], onResult?: (count: number, allocator: Allocator) => void): Allocator {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let partial = '';
  const allocator: Allocator = {
    process: child,
    results: [],
    done: new Promise((resolve) => child.once('close', (code) => resolve(code))),
    stderr: () => stderr,
  };
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const record = JSON.parse(line) as { address?: string; pool?: string };
      const value = record.address ?? record.pool;
      if (value !== undefined) {
        allocator.results.push(value);
        onResult?.(allocator.results.length, allocator);
      }
    }
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return allocator;
}
