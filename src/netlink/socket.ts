// Requests and replies over one netlink socket: sequence numbers, many requests in flight,
// multi-part dumps, acks and errors. Requests made in the same tick are batched: they go to the
// kernel as one datagram at the end of the current microtask run. The kernel sees requests in
// the order they were queued, as on any netlink socket. In a batch only the last request asks for
// an ack: the kernel handles a datagram's messages in order and answers a failed one with its
// error whether asked or not, so the last one's answer settles the quiet ones before it, as
// succeeded unless their own error came first (fewer replies to make, queue and read).
// rtnetlink answers inside sendto, so replies are read at once without waiting for the event
// loop; the loop watcher is only the slow path.
// Slow requests (device deletion waits for RCU grace periods inside sendto) are sent from the
// thread pool. Such a request holds back the ones queued behind it until it is settled: by its
// ack, or earlier by a reply that shows the kernel has done the visible part of the work (the
// NLM_F_ECHO copy of a deleted device arrives ~0.2 ms in, its ack ~15 ms later).
import { NLM_F, NLMSG } from './constants';
import { NetlinkError } from './errors';
import { decodeDone, decodeError, decodeMessages, encodeMessage, type Message } from './message';
import { native, type NativeNetlinkSocket } from '../native/addon';

/** What a failure message says was being done to what, e.g. ('creating link', '"br0"'). */
export interface RequestContext {
  operation: string;
  object: string;
  /**
   * Send from the thread pool: for requests the kernel runs for milliseconds inside sendto
   * (deleting a device waits for RCU grace periods), so the event loop is not blocked.
   */
  offload?: boolean;
  /** Ask the kernel to copy the change it made back to us (NLM_F_ECHO), as data replies. */
  echo?: boolean;
  /**
   * A data reply that settles the request before its ack arrives; the late ack is then read and
   * dropped. Checked on content, not only on the sequence number, because the kernel also
   * unicasts echoes to the same port id in *other* namespaces (e.g. a veth peer's).
   */
  settledBy?(reply: Message): boolean;
}

interface Pending {
  context: RequestContext;
  replies: Message[];
  resolve(replies: Message[]): void;
  reject(error: Error): void;
  /** Requests of its batch sent without an ack: settled when this one is. */
  quietBefore?: number[];
}

interface Queued {
  seq: number;
  message: Buffer;
  context: RequestContext;
  dump: boolean;
  offload: boolean;
  /** May go without NLM_F_ACK when a later request of its batch has one: it expects no data back. */
  quietable: boolean;
}

/** rtnetlink's GET requests (RTM_GETLINK, RTM_GETADDR...) answer with data: type % 4 == 2. */
const isGet = (type: number): boolean => type >= 16 && (type & 3) === 2;
/** Where nlmsg_flags sits in a message header. */
const FLAGS_OFFSET = 6;

const NETLINK_ROUTE = 0;
/** A batch is cut into datagrams of at most this size (well inside the socket's send buffer). */
const MAX_DATAGRAM = 64 * 1024;
/** A dump the kernel flags as interrupted (the table changed under it) is retried this often. */
const DUMP_RETRIES = 5;

/**
 * Offloaded sends hold a libuv pool thread for the whole kernel wait (~15 ms for a device
 * delete), and that pool also serves fs, dns.lookup, crypto and zlib for the whole process. At
 * most all but one thread may be held by netlink, so a burst of deletes never stalls the rest;
 * the others wait here, in order. Deletes in flight are bounded by the pool's size, so processes
 * deleting many links at once should raise UV_THREADPOOL_SIZE (before the pool's first use).
 */
class ThreadPoolShare {
  private readonly limit: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(poolSize: number) {
    this.limit = Math.max(1, poolSize - 1);
  }

  acquire(start: () => void): void {
    if (this.active < this.limit) {
      this.active++;
      start();
    } else {
      this.waiting.push(start);
    }
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** libuv's default is 4 threads, capped at 1024. */
const threadPool = new ThreadPoolShare(Math.min(1024, Number(process.env['UV_THREADPOOL_SIZE']) || 4));

export class RouteSocket {
  private readonly socket: NativeNetlinkSocket;
  private readonly pending = new Map<number, Pending>();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private watching = false;
  private closed = false;
  private queued: Queued[] = [];
  private flushScheduled = false;
  /** The offloaded request the queue waits for, until it is settled. */
  private holding: number | undefined;
  /** Offloaded sends still inside a worker thread: the descriptor must outlive them. */
  private workers = 0;
  /** Datagrams sent so far, for tests and diagnostics (batching shows as fewer datagrams than requests). */
  datagramsSent = 0;

  /** Over any socket with the addon's shape: tests drive the protocol with a scripted kernel. */
  constructor(socket: NativeNetlinkSocket) {
    this.socket = socket;
  }

  /** An rtnetlink socket in the namespace at `netnsPath` (null: the caller's). */
  static open(netnsPath: string | null): RouteSocket {
    return new RouteSocket(native().openNetlink(NETLINK_ROUTE, netnsPath, 0));
  }

  /** Sends a request and resolves with the data messages of its reply (empty for a bare ack). */
  request(type: number, flags: number, payload: Buffer, context: RequestContext): Promise<Message[]> {
    return this.send(type, flags | NLM_F.REQUEST | NLM_F.ACK | (context.echo ? NLM_F.ECHO : 0), payload, context);
  }

  /** A dump: every message until NLMSG_DONE, retried when the kernel says it was interrupted. */
  async dump(type: number, payload: Buffer, context: RequestContext): Promise<Message[]> {
    for (let attempt = 1; ; attempt++) {
      const replies = await this.send(type, NLM_F.REQUEST | NLM_F.DUMP, payload, context);
      if (!replies.some((m) => m.flags & NLM_F.DUMP_INTR) || attempt >= DUMP_RETRIES) return replies;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = [];
    // A worker thread may still be sending on the descriptor: close it when the last worker is
    // done, never under it (the number could be reused by then).
    if (this.workers === 0) this.socket.close();
    for (const [, p] of this.pending) p.reject(new Error(`netlink socket closed while ${p.context.operation} ${p.context.object}`));
    this.pending.clear();
  }

  private send(type: number, flags: number, payload: Buffer, context: RequestContext): Promise<Message[]> {
    if (this.closed) return Promise.reject(new Error(`netlink handle is closed (${context.operation} ${context.object})`));
    this.seq = (this.seq + 1) >>> 0 || 1;
    const seq = this.seq;
    const promise = new Promise<Message[]>((resolve, reject) => {
      this.pending.set(seq, { context, replies: [], resolve, reject });
    });
    const message = encodeMessage({ type, flags, seq, portId: 0 }, payload);
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    const offload = context.offload === true;
    const quietable = !dump && !offload && !context.echo && !context.settledBy && !isGet(type);
    this.queued.push({ seq, message, context, dump, offload, quietable });
    this.scheduleFlush();
    return promise;
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled && this.queued.length > 0) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** A request left `pending`: if the queue was waiting for it, let the rest go. */
  private settled(seq: number): void {
    if (this.holding === seq) {
      this.holding = undefined;
      this.scheduleFlush();
    }
  }

  /**
   * Sends what was queued, in order. Requests share datagrams; a dump goes alone and is read to
   * its end before anything else is sent, because a socket runs one dump at a time; an offloaded
   * request goes from the thread pool and the rest waits until it is settled.
   */
  private flush(): void {
    this.flushScheduled = false;
    let batch: Queued[] = [];
    let size = 0;
    const sendBatch = (): void => {
      if (batch.length === 0) return;
      const sent = batch;
      batch = [];
      size = 0;
      this.quietenAllButLast(sent);
      try {
        this.socket.send(sent.length === 1 ? sent[0]!.message : Buffer.concat(sent.map((q) => q.message)));
        this.datagramsSent++;
      } catch (error) {
        for (const q of sent) this.fail(q.seq, error as NodeJS.ErrnoException, q.context);
      }
    };
    while (this.queued.length > 0 && this.holding === undefined && !this.closed) {
      const q = this.queued.shift()!;
      if (q.offload) {
        sendBatch();
        this.holding = q.seq;
        this.workers++;
        // The reply may come while the worker is still in sendto: the watcher catches it.
        this.watch();
        threadPool.acquire(() => {
          if (this.closed) {
            threadPool.release();
            this.workerDone();
            return;
          }
          this.socket.sendOffloaded(q.message, (error) => {
            threadPool.release();
            this.workerDone();
            if (this.closed) return;
            if (error) this.fail(q.seq, error, q.context);
            this.drain();
            // sendto has returned, so the kernel is done with it: never wait longer than this.
            this.settled(q.seq);
          });
        });
        this.datagramsSent++;
        break;
      }
      if (q.dump || size + q.message.length > MAX_DATAGRAM) sendBatch();
      batch.push(q);
      size += q.message.length;
      if (q.dump) {
        sendBatch();
        this.drain();
      }
    }
    sendBatch();
    this.drain();
    if (this.pending.size > 0) this.watch();
  }

  /** Clears NLM_F_ACK on the batch's quietable requests but the last, which settles them (see top). */
  private quietenAllButLast(batch: Queued[]): void {
    const last = this.pending.get(batch[batch.length - 1]!.seq);
    if (!last) return;
    const quiet: number[] = [];
    for (const q of batch.slice(0, -1)) {
      if (!q.quietable) continue;
      q.message.writeUInt16LE(q.message.readUInt16LE(FLAGS_OFFSET) & ~NLM_F.ACK, FLAGS_OFFSET);
      quiet.push(q.seq);
    }
    if (quiet.length > 0) last.quietBefore = quiet;
  }

  /**
   * The kernel has answered request `seq`: it leaves `pending`, and the quiet ones of its batch
   * before it that no error has failed have succeeded.
   */
  private answered(seq: number, p: Pending): void {
    this.pending.delete(seq);
    this.settled(seq);
    for (const quietSeq of p.quietBefore ?? []) {
      const quiet = this.pending.get(quietSeq);
      if (!quiet) continue;
      this.pending.delete(quietSeq);
      quiet.resolve(quiet.replies);
    }
  }

  private workerDone(): void {
    this.workers--;
    if (this.closed && this.workers === 0) this.socket.close();
  }

  private fail(seq: number, error: NodeJS.ErrnoException, context: RequestContext): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    this.settled(seq);
    // sendto's own errno (ENOBUFS, EMSGSIZE...): the request never reached a handler. Anything
    // else is a bug worth seeing as it is, not as "errno 0".
    p.reject(typeof error.errno === 'number' ? new NetlinkError(Math.abs(error.errno), context.operation, context.object) : error);
  }

  /** Reads every queued datagram without blocking. */
  private drain(): void {
    let datagram: Buffer | null;
    while (this.pending.size > 0 && (datagram = this.socket.tryReceive()) !== null) this.dispatch(datagram);
    this.idleUnlessPending();
  }

  /** An idle handle must not keep the process alive. */
  private idleUnlessPending(): void {
    if (this.watching && this.pending.size === 0) this.socket.unref();
  }

  private watch(): void {
    if (!this.watching) {
      this.watching = true;
      this.socket.start(
        (datagrams) => {
          for (const d of datagrams) this.dispatch(d);
          this.idleUnlessPending();
        },
        (error) => {
          // Lost replies (ENOBUFS) cannot be matched any more: fail what is waiting.
          const lost = [...this.pending];
          this.pending.clear();
          for (const [seq, p] of lost) {
            this.settled(seq);
            p.reject(new NetlinkError(-(error.errno ?? 0), p.context.operation, p.context.object));
          }
          this.idleUnlessPending();
        },
      );
    }
    this.socket.ref();
  }

  private dispatch(datagram: Buffer): void {
    for (const message of decodeMessages(datagram)) {
      const p = this.pending.get(message.seq);
      if (!p) continue;
      if (message.type === NLMSG.ERROR) {
        this.answered(message.seq, p);
        const { errno, kernelMessage } = decodeError(message);
        if (errno === 0) p.resolve(p.replies);
        else p.reject(new NetlinkError(errno, p.context.operation, p.context.object, kernelMessage));
      } else if (message.type === NLMSG.DONE) {
        this.answered(message.seq, p);
        const { errno, kernelMessage } = decodeDone(message);
        if (errno > 0) p.reject(new NetlinkError(errno, p.context.operation, p.context.object, kernelMessage));
        else p.resolve(p.replies);
      } else if (message.type !== NLMSG.NOOP) {
        p.replies.push(message);
        if (p.context.settledBy?.(message)) {
          this.answered(message.seq, p);
          p.resolve(p.replies);
        }
      }
    }
  }
}
