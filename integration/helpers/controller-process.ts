// A controller for tests, run inside a test host (`nsenter --net=...`): opens netctl's stack on
// the given root and run dir (with an embedder's marks when an identity number follows) and
// answers JSON lines on stdin, {id, method, args}, with {id, result} or {id, error: {name,
// message}}. stdin closing closes the stack and exits.
// With NETCTL_TEST_CLUSTER={"etcd": URL, "node": NAME} it is a cluster host instead: netctl as an
// embedder (createNetctl) on that etcd under that node name, with TestGlobalDriver registered;
// the method "driverNetworks" lists the networks that driver holds here.
// A descriptor cannot travel as JSON: createSandbox's `key: {open: PATH}` is opened here, handed
// over as a descriptor and closed once the call returns (netctl keeps its own).
import fs from 'node:fs';
import readline from 'node:readline';
import pino from 'pino';
import path from 'node:path';
import { openStack } from '../../src/daemon/stack';
import { createNetctl } from '../../src/embed';
import { GlobalStore } from '../../src/store/etcd';
import type { Controller } from '../../src/controller';
import { TestGlobalDriver } from './global-driver';
import { ownershipOf } from '../../src/kernel/ownership';

async function main(): Promise<void> {
  const [root, runDir, identity] = process.argv.slice(2);
  const cluster = process.env['NETCTL_TEST_CLUSTER'];
  const stack = cluster ? await clusterHost(root!, runDir!, JSON.parse(cluster) as { etcd: string; node: string }) : await openStack({ root: root!, runDir: runDir!, log: pino({ level: 'silent' }), ...(identity === undefined ? {} : { ownership: ownershipOf(Number(identity)) }) });
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

/** A cluster host: short etcd retries, so a test sees an outage fail in a few seconds. */
async function clusterHost(root: string, runDir: string, options: { etcd: string; node: string }): Promise<{ controller: Controller; close(): Promise<void> }> {
  const driver = new TestGlobalDriver();
  const netctl = await createNetctl({
    store: path.join(root, 'store.db'),
    runDir,
    dns: false,
    logger: pino({ level: process.env['NETCTL_TEST_LOG'] ?? 'silent' }, pino.destination(2)),
    drivers: [driver],
    globalStore: new GlobalStore({ endpoints: [options.etcd], retryWindowMs: 2_000, attemptTimeoutMs: 1_000 }),
    nodeName: options.node,
  });
  const extras = { driverNetworks: () => [...driver.networks] };
  const controller = new Proxy(netctl.controller, { get: (target, property, receiver) => (extras as Record<string | symbol, unknown>)[property] ?? Reflect.get(target, property, receiver) });
  return {
    controller,
    close: async () => {
      await netctl.close();
      await netctl.globalStore?.close();
    },
  };
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
