// A controller for tests, run inside a test host (`nsenter --net=...`): opens netctl's stack on
// the given root and run dir (with an embedder's marks when an identity number follows) and
// answers JSON lines on stdin, {id, method, args}, with {id, result} or {id, error: {name,
// message}}. stdin closing closes the stack and exits.
// A descriptor cannot travel as JSON: createSandbox's `key: {open: PATH}` is opened here, handed
// over as a descriptor and closed once the call returns (netctl keeps its own).
import fs from 'node:fs';
import readline from 'node:readline';
import pino from 'pino';
import { openStack } from '../../src/daemon/stack';
import { ownershipOf } from '../../src/kernel/ownership';

async function main(): Promise<void> {
  const [root, runDir, identity] = process.argv.slice(2);
  const stack = await openStack({ root: root!, runDir: runDir!, log: pino({ level: 'silent' }), ...(identity === undefined ? {} : { ownership: ownershipOf(Number(identity)) }) });
  const reply = (message: unknown): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
  reply({ ready: true });
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, method, args } = JSON.parse(line) as { id: number; method: string; args: unknown[] };
    const controller = stack.controller as unknown as Record<string, (...a: unknown[]) => unknown>;
    const opened = withOpenedKey(method, args);
    Promise.resolve()
      .then(() => controller[method]!.apply(stack.controller, opened.args))
      .finally(opened.close)
      .then(
        (result) => reply({ id, result: result ?? null }),
        (error: Error) => reply({ id, error: { name: error.name, message: error.message } }),
      );
  });
  lines.on('close', () => {
    void stack.close().then(() => process.exit(0));
  });
}

function withOpenedKey(method: string, args: unknown[]): { args: unknown[]; close(): void } {
  const options = args[0] as { key?: { open?: string } } | undefined;
  const file = method === 'createSandbox' ? options?.key?.open : undefined;
  if (file === undefined) return { args, close: () => undefined };
  const fd = fs.openSync(file, 'r');
  return { args: [{ ...options, key: fd }, ...args.slice(1)], close: () => fs.closeSync(fd) };
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
