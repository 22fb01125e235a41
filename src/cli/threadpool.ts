// Imported first by the CLI entry, before any module can start libuv's thread pool: the pool's
// size is read once, at its first use. Device deletes wait in the kernel (RCU grace periods,
// ~15 ms) on pool threads (src/netlink/socket.ts), so a burst of container disconnects needs more
// than libuv's default 4 threads, or each waits for a thread another delete still holds.
process.env['UV_THREADPOOL_SIZE'] ??= '32';

export {};
