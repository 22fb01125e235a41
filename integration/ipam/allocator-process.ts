// A separate allocator process (a "daemon") for the concurrency and crash tests: it opens the
// IPAM on a store and prints one JSON line per acknowledged result.
// argv: store ('etcd:ENDPOINT' | 'sqlite:FILE'), command ('addresses POOL_ID COUNT' | 'pools COUNT' | 'static CIDR')
import { Ipam, GLOBAL_SPACE, LOCAL_SPACE } from '../../src/ipam';
import fs from 'node:fs';
import { GlobalStore, LocalStore, type Store } from '../../src/store';

/**
 * Writes a result line straight into the pipe: a result counts as acknowledged only once it is
 * there, since process.stdout may hold lines in memory that a SIGKILL then loses.
 */
function say(message: unknown): void {
  const line = Buffer.from(`${JSON.stringify(message)}\n`);
  for (let written = 0; written < line.length; ) {
    try {
      written += fs.writeSync(1, line, written);
    } catch (error) {
      // The reader is slower than this writer: wait for room in the pipe.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

async function main(): Promise<void> {
  const [storeArg, command, a, b] = process.argv.slice(2) as [string, string, string, string | undefined];
  const global = storeArg.startsWith('etcd:');
  const store: Store = global ? new GlobalStore({ endpoints: [storeArg.slice(5)] }) : new LocalStore(storeArg.slice(7));
  const ipam = global ? await Ipam.open({ local: new LocalStore(':memory:'), global: store }) : await Ipam.open({ local: store });
  say({ ready: true });
  if (command === 'addresses') {
    for (let i = 0; i < Number(b); i++) say({ address: await ipam.requestAddress(a) });
  } else if (command === 'static') {
    say({ pool: (await ipam.requestPool({ addressSpace: global ? GLOBAL_SPACE : LOCAL_SPACE, pool: a })).poolId });
  } else {
    for (let i = 0; i < Number(a); i++) say({ pool: (await ipam.requestPool({ addressSpace: global ? GLOBAL_SPACE : LOCAL_SPACE })).pool });
  }
  await ipam.close();
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
