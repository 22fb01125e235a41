// `npm run bench -- NAME [NAME...]`: runs the named benchmarks (all when none is named).
// Each benchmark module exports `run(): Promise<void>` and prints JSON lines via report().
import path from 'node:path';
import fs from 'node:fs';

// Deletes of network devices wait in the kernel on the thread pool (see src/netlink/socket.ts);
// libuv reads this once, at the pool's first use, so it is set before anything asynchronous.
process.env['UV_THREADPOOL_SIZE'] ??= '32';

// A reader that goes away (`| head`) must not end a benchmark before it removed its test hosts:
// figures written after that are dropped.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

async function main(): Promise<void> {
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.replace(/\.bench\.js$/, ''))
    .sort();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
  for (const name of wanted.length > 0 ? wanted : available) {
    const mod = (await import(path.join(__dirname, `${name}.bench.js`))) as { run(): Promise<void> };
    await mod.run();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
