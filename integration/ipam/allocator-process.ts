// A separate allocator process (a "daemon") for the concurrency and crash tests: it opens the
// IPAM on a store and prints one JSON line per acknowledged result.
// argv: store ('etcd:ENDPOINT' | 'sqlite:FILE'), command ('addresses POOL_ID COUNT' | 'pools COUNT' | 'static CIDR')
import { Ipam, GLOBAL_SPACE, LOCAL_SPACE } from '../../src/ipam';
import { GlobalStore, LocalStore, type Store } from '../../src/store';

async function main(): Promise<void> {
  const [storeArg, command, a, b] = process.argv.slice(2) as [string, string, string, string | undefined];
  const global = storeArg.startsWith('etcd:');
  const store: Store = global ? new GlobalStore({ endpoints: [storeArg.slice(5)] }) : new LocalStore(storeArg.slice(7));
  const ipam = global ? await Ipam.open({ local: new LocalStore(':memory:'), global: store }) : await Ipam.open({ local: store });
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  if (command === 'addresses') {
    for (let i = 0; i < Number(b); i++) process.stdout.write(JSON.stringify({ address: await ipam.requestAddress(a) }) + '\n');
  } else if (command === 'static') {
    process.stdout.write(JSON.stringify({ pool: (await ipam.requestPool({ addressSpace: global ? GLOBAL_SPACE : LOCAL_SPACE, pool: a })).poolId }) + '\n');
  } else {
    for (let i = 0; i < Number(a); i++) process.stdout.write(JSON.stringify({ pool: (await ipam.requestPool({ addressSpace: global ? GLOBAL_SPACE : LOCAL_SPACE })).pool }) + '\n');
  }
  await ipam.close();
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
