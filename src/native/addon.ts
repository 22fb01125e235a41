// Typed view of the C++ addon (addon/src/*.cc). Only syscalls Node lacks live there:
// netlink sockets, named network namespaces, sockets opened inside another namespace, and
// posix_spawn (the daemon's iptables runs, container shims and execs, and the benchmarks' peers).
import path from 'node:path';
import { guardCallback } from './callback-guard';

/** A raw AF_NETLINK socket owned by the addon; framing, sequencing and parsing live in TypeScript. */
export interface NativeNetlinkSocket {
  /** The port id (nl_pid) the kernel assigned on bind. */
  readonly portId: number;
  /** Sends one datagram to the kernel. Throws an errno error (e.g. ENOBUFS) synchronously. */
  send(datagram: Buffer): void;
  /**
   * Sends from the libuv thread pool, for requests the kernel executes slowly inside sendto
   * (device deletion waits for RCU grace periods); `done` gets null or the errno error.
   */
  sendOffloaded(datagram: Buffer, done: (error: NodeJS.ErrnoException | null) => void): void;
  /** Non-blocking receive of one datagram; null when nothing is queued. */
  tryReceive(): Buffer | null;
  /**
   * Starts watching the socket on the event loop; every readable wake-up delivers all queued
   * datagrams (up to a fairness cap) in one call.
   */
  start(onDatagrams: (datagrams: Buffer[]) => void, onError: (error: NodeJS.ErrnoException) => void): void;
  /** Lets a watched socket keep (ref) or not keep (unref) the process alive. */
  ref(): void;
  unref(): void;
  /** Stops watching and closes the descriptor. Idempotent. */
  close(): void;
}

/** A datagram's sender as a UDP batch gives it: IPv4 address and port, as sent. */
const PEER_BYTES = 6;

/** A bound IPv4 UDP socket served in batches (recvmmsg/sendmmsg); see addon/src/udp_batch.h. */
export interface NativeUdpBatch {
  /** onBatch gets the datagrams of one receive and, for each, its sender as 6 bytes (address, port). */
  start(onBatch: (messages: Buffer[], peers: Buffer[]) => void): void;
  /** Sends each reply to its peer (as onBatch gave it) in one system call; returns how many went out. */
  send(replies: Buffer[], peers: Buffer[]): number;
  close(): void;
}

/** A pidfd of a process (any, not only a child), watched on the event loop; see addon/src/process_watch.h. */
export interface NativeProcessExitWatch {
  /** onExit() is called once, when the process has exited (at once if it already has). */
  start(onExit: () => void): void;
  close(): void;
}

export interface NativeAddon {
  /** Takes over a bound UDP socket's descriptor (from socketInNetns). */
  UdpBatch: new (fd: number) => NativeUdpBatch;
  /** Opens a pidfd of `pid`; throws an errno error with code ESRCH when there is no such process. */
  ProcessExitWatch: new (pid: number) => NativeProcessExitWatch;
  /**
   * Opens a netlink socket of `protocol` (NETLINK_ROUTE = 0), bound to multicast `groups`,
   * inside the network namespace at `netnsPath` (null: the caller's own).
   */
  openNetlink(protocol: number, netnsPath: string | null, groups: number): NativeNetlinkSocket;
  /**
   * Makes `dir` a shared mount point so namespace bind mounts below it propagate to every mount
   * namespace (as `ip netns` does for /run/netns). Idempotent.
   */
  prepareNetnsDir(dir: string): void;
  /** Creates a new network namespace kept alive by a bind mount at `nsPath` (file must not exist). */
  createNetns(nsPath: string): void;
  /** Unmounts (lazily) and unlinks a namespace created by createNetns or `ip netns add`. */
  deleteNetns(nsPath: string): void;
  /** Path of the calling thread's network namespace, e.g. /proc/123/task/123/ns/net. */
  currentNetnsPath(): string;
  /** Inode of the namespace at `nsPath`: equal inodes mean the same namespace. */
  netnsInode(nsPath: string): number;
  /**
   * Creates a socket inside the namespace at `nsPath`, binds it, and returns its descriptor for
   * Node to adopt (`dgram` `bind({fd})`, `net.Server.listen({fd})`). SO_REUSEADDR is set.
   */
  socketInNetns(nsPath: string, kind: 'udp4' | 'udp6' | 'tcp4' | 'tcp6', address: string, port: number): number;
  /**
   * glibc's mallopt: caps the malloc arenas threads get (M_ARENA_MAX) and fixes the mmap and trim
   * thresholds at `thresholdBytes`, so freed memory goes back to the system (the daemon's memory).
   */
  limitMallocRetention(arenas: number, thresholdBytes: number): void;
  /** Raises the soft limit of open files to the hard limit; returns the soft limit in force. */
  raiseOpenFileLimit(): number;
  /**
   * Starts `file` (a path: PATH is not searched) with `argv` (argv[0] included, as execv takes it)
   * through posix_spawn, which does not copy this process's page tables as child_process's fork
   * does: the start costs what it costs a Go or Rust caller. The three descriptors become the
   * child's 0, 1 and 2; its environment is `env` ("KEY=value" entries), or this process's when
   * absent. Blocks the calling thread until the child exits (for benchmarks, which do nothing
   * else meanwhile) and returns its exit code, or 128 + the signal that killed it. Throws an
   * errno error (code ENOENT, EACCES...) when the process cannot be started.
   */
  spawnAndWait(file: string, argv: string[], stdinFd: number, stdoutFd: number, stderrFd: number, env?: string[]): number;
  /**
   * Runs `file` (a path: PATH is not searched) with `argv` (argv[0] included) through posix_spawn,
   * as spawnAndWait does, but without blocking: starting it, feeding it `input` on stdin (then
   * closing it; without input, stdin is closed at once), collecting its stdout and stderr and
   * waiting for its exit all happen on a libuv pool thread. The child gets `env` ("KEY=value"
   * entries), or this process's environment as it is at the call. `callback` gets the exit code
   * (or 128 + the signal that killed it) and both outputs whole, or an errno error (code ENOENT,
   * EACCES...) when the process cannot be started. A child that closes its stdin before reading
   * all of `input` is not an error: its status tells. Output ends when every holder of the
   * child's stdout and stderr has let go of them, so a child that daemonises must close them.
   * After `timeoutMs` (when given and > 0) a child still running is killed (SIGKILL) and reaped,
   * and the error's code is ETIMEDOUT.
   */
  runProcess(
    file: string,
    argv: string[],
    input: Buffer | undefined,
    env: string[] | undefined,
    timeoutMs: number | undefined,
    callback: (error: NodeJS.ErrnoException | null, result?: { status: number; stdout: Buffer; stderr: Buffer }) => void,
  ): void;
  /**
   * Starts `file` as runProcess does (posix_spawn from a pool thread; `env` or this process's),
   * with stdin /dev/null (or a pipe, with stdinPipe), and hands over its ends of the pipes: the
   * caller reads them as output comes, closes them, and reaps the child with reapIfExited.
   */
  spawnStreaming(
    file: string,
    argv: string[],
    env: string[] | undefined,
    stdinPipe: boolean,
    callback: (error: NodeJS.ErrnoException | null, result?: { pid: number; stdin: number; stdout: number; stderr: number }) => void,
  ): void;
  /** waitpid(WNOHANG) on a child of spawnStreaming: its exit code (128 + signal) once it ended, else null. */
  reapIfExited(pid: number): number | null;
}

let loaded: NativeAddon | undefined;

/** The addon, loaded once, with every callback it is handed guarded (see callback-guard.ts). */
export function native(): NativeAddon {
  loaded ??= withGuardedCallbacks(unguardedAddon());
  return loaded;
}

/** The addon as built (addon/build/Release/netctl_native.node): its callbacks are the caller's to guard. */
export function unguardedAddon(): NativeAddon {
  // dist/src/native/addon.js → ../../../addon/build/Release
  const file = path.resolve(__dirname, '..', '..', '..', 'addon', 'build', 'Release', 'netctl_native.node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const built = require(file) as Omit<NativeAddon, 'UdpBatch'> & { UdpBatch: new (fd: number) => BuiltUdpBatch };
  return { ...built, UdpBatch: splitBatches(built.UdpBatch) };
}

/** The addon's UdpBatch as built: a batch comes as one buffer (see addon/src/udp_batch.cc). */
interface BuiltUdpBatch extends Omit<NativeUdpBatch, 'start'> {
  start(onBatch: (data: Buffer, ends: number[]) => void): void;
}

/** Each batch cut into its messages and their peers: views into the batch's one buffer, not copies. */
function splitBatches(Built: new (fd: number) => BuiltUdpBatch): new (fd: number) => NativeUdpBatch {
  return class implements NativeUdpBatch {
    private readonly built: BuiltUdpBatch;
    constructor(fd: number) {
      this.built = new Built(fd);
    }
    start(onBatch: (messages: Buffer[], peers: Buffer[]) => void): void {
      this.built.start((data, ends) => {
        const messages: Buffer[] = [];
        const peers: Buffer[] = [];
        let at = 0;
        for (const end of ends) {
          peers.push(data.subarray(at, at + PEER_BYTES));
          messages.push(data.subarray(at + PEER_BYTES, end));
          at = end;
        }
        onBatch(messages, peers);
      });
    }
    send(replies: Buffer[], peers: Buffer[]): number {
      return this.built.send(replies, peers);
    }
    close(): void {
      this.built.close();
    }
  };
}

/** Every function that takes a callback, wrapped to hand the addon a guarded one. */
function withGuardedCallbacks(addon: NativeAddon): NativeAddon {
  return {
    ...addon,
    UdpBatch: class extends addon.UdpBatch {
      override start(onBatch: (messages: Buffer[], peers: Buffer[]) => void): void {
        super.start(guardCallback('a UDP batch callback', onBatch));
      }
    },
    ProcessExitWatch: class extends addon.ProcessExitWatch {
      override start(onExit: () => void): void {
        super.start(guardCallback('a process exit callback', onExit));
      }
    },
    openNetlink(protocol, netnsPath, groups) {
      const socket = addon.openNetlink(protocol, netnsPath, groups);
      const { start, sendOffloaded } = socket;
      // Defined, not assigned: the class's methods are read-only.
      return Object.defineProperties(socket, {
        start: {
          value: (onDatagrams: (datagrams: Buffer[]) => void, onError: (error: NodeJS.ErrnoException) => void) =>
            start.call(socket, guardCallback('a netlink datagram callback', onDatagrams), guardCallback('a netlink error callback', onError)),
        },
        sendOffloaded: { value: (datagram: Buffer, done: (error: NodeJS.ErrnoException | null) => void) => sendOffloaded.call(socket, datagram, guardCallback('a netlink send callback', done)) },
      });
    },
    runProcess: (file, argv, input, env, timeoutMs, callback) => addon.runProcess(file, argv, input, env, timeoutMs, guardCallback(`the completion callback of ${file}`, callback)),
    spawnStreaming: (file, argv, env, stdinPipe, callback) => addon.spawnStreaming(file, argv, env, stdinPipe, guardCallback(`the start callback of ${file}`, callback)),
  };
}
