// Requests and replies over one netlink socket: sequence numbers, many requests in flight,
// multi-part dumps, acks and errors. Requests made in the same tick are batched: they go to the
// kernel as one datagram at the end of the current microtask run. The kernel sees requests in
// the order they were queued, as on any netlink socket; an offloaded send holds back the
// requests behind it until it is done, so parallel deletes need several handles.
// rtnetlink answers inside sendto, so replies are read at once without waiting for the event
// loop; the loop watcher is only the slow path.
import { NLM_F, NLMSG } from './constants';
import { NetlinkError } from './errors';
import { decodeError, decodeMessages, encodeMessage, type Message } from './message';
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
}

interface Pending {
  context: RequestContext;
  replies: Message[];
  resolve(replies: Message[]): void;
  reject(error: Error): void;
}

interface Queued {
  seq: number;
  message: Buffer;
  context: RequestContext;
  dump: boolean;
  offload: boolean;
}

const NETLINK_ROUTE = 0;
/** A batch is cut into datagrams of at most this size (well inside the socket's send buffer). */
const MAX_DATAGRAM = 64 * 1024;
/** A dump the kernel flags as interrupted (the table changed under it) is retried this often. */
const DUMP_RETRIES = 5;

export class RouteSocket {
  private readonly socket: NativeNetlinkSocket;
  private readonly pending = new Map<number, Pending>();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private watching = false;
  private closed = false;
  private queued: Queued[] = [];
  private flushScheduled = false;
  private offloadInFlight = false;
  /** Datagrams sent so far, for tests and diagnostics (batching shows as fewer datagrams than requests). */
  datagramsSent = 0;

  constructor(netnsPath: string | null) {
    this.socket = native().openNetlink(NETLINK_ROUTE, netnsPath, 0);
  }

  /** Sends a request and resolves with the data messages of its reply (empty for a bare ack). */
  request(type: number, flags: number, payload: Buffer, context: RequestContext): Promise<Message[]> {
    return this.send(type, flags | NLM_F.REQUEST | NLM_F.ACK, payload, context);
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
    // A worker thread may still be sending on the descriptor: close it when the worker is done,
    // never under it (the number could be reused by then).
    if (!this.offloadInFlight) this.socket.close();
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
    this.queued.push({ seq, message, context, dump: (flags & NLM_F.DUMP) === NLM_F.DUMP, offload: context.offload === true });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    return promise;
  }

  /**
   * Sends what was queued, in order. Requests share datagrams; a dump goes alone and is read to
   * its end before anything else is sent, because a socket runs one dump at a time; an offloaded
   * request goes from the thread pool and the rest waits for it.
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
      try {
        this.socket.send(sent.length === 1 ? sent[0]!.message : Buffer.concat(sent.map((q) => q.message)));
        this.datagramsSent++;
      } catch (error) {
        for (const q of sent) this.fail(q.seq, error as NodeJS.ErrnoException, q.context);
      }
    };
    while (this.queued.length > 0 && !this.offloadInFlight && !this.closed) {
      const q = this.queued.shift()!;
      if (q.offload) {
        sendBatch();
        this.offloadInFlight = true;
        // The reply may come while the worker is still returning: the watcher catches it.
        this.watch();
        this.socket.sendOffloaded(q.message, (error) => {
          this.offloadInFlight = false;
          if (this.closed) {
            this.socket.close();
            return;
          }
          if (error) this.fail(q.seq, error, q.context);
          this.drain();
          this.flush();
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

  private fail(seq: number, error: NodeJS.ErrnoException, context: RequestContext): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    p.reject(new NetlinkError(typeof error.errno === 'number' ? -error.errno : 0, context.operation, context.object, error.message));
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
          for (const [, p] of this.pending) p.reject(new NetlinkError(-(error.errno ?? 0), p.context.operation, p.context.object, error.message));
          this.pending.clear();
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
        this.pending.delete(message.seq);
        const { errno, kernelMessage } = decodeError(message);
        if (errno === 0) p.resolve(p.replies);
        else p.reject(new NetlinkError(errno, p.context.operation, p.context.object, kernelMessage));
      } else if (message.type === NLMSG.DONE) {
        this.pending.delete(message.seq);
        const errno = message.payload.length >= 4 ? -message.payload.readInt32LE(0) : 0;
        if (errno > 0) p.reject(new NetlinkError(errno, p.context.operation, p.context.object));
        else p.resolve(p.replies);
      } else if (message.type !== NLMSG.NOOP) {
        p.replies.push(message);
      }
    }
  }
}
