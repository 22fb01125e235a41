// A controller for tests, run inside a test host (`nsenter --net=...`): opens netctl's stack on
// the given root and run dir (with an embedder's marks when an identity number follows) and
// answers JSON lines on stdin, {id, method, args}, with {id, result} or {id, error: {name,
// message}}. stdin closing closes the stack and exits.
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
    Promise.resolve()
      .then(() => controller[method]!.apply(stack.controller, args))
      .then(
        (result) => reply({ id, result: result ?? null }),
        (error: Error) => reply({ id, error: { name: error.name, message: error.message } }),
      );
  });
  lines.on('close', () => {
    void stack.close().then(() => process.exit(0));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
