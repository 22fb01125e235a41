// The request/reply protocol of RouteSocket, without root: a scripted kernel stands in for the
// addon's socket, so batching, sequence matching, dumps, early settlement of offloaded requests,
// ref/unref and close can be checked message by message.
import test from 'ava';
import { NLM_F, NLMSG, RTM } from '../../src/netlink/constants';
import { NetlinkError } from '../../src/netlink/errors';
import { decodeMessages, encodeError, encodeMessage, type Message } from '../../src/netlink/message';
import { RouteSocket } from '../../src/netlink/socket';
import type { NativeNetlinkSocket } from '../../src/native/addon';

type Reply = (request: Message) => Buffer[];

/** Answers each request synchronously inside send(), as rtnetlink does. */
class ScriptedKernel implements NativeNetlinkSocket {
  readonly portId = 4242;
  readonly sent: Message[][] = [];
  readonly offloaded: Array<{ request: Message; done: (error: NodeJS.ErrnoException | null) => void }> = [];
  readonly queue: Buffer[] = [];
  refed = false;
  closed = false;
  private onDatagrams: ((datagrams: Buffer[]) => void) | undefined;

  constructor(private readonly reply: Reply = ack) {}

  /** As the kernel does, a success is acked only when the request asked for it (NLM_F_ACK). */
  send(datagram: Buffer): void {
    const messages = decodeMessages(datagram);
    this.sent.push(messages);
    for (const m of messages) this.queue.push(...this.reply(m).filter((reply) => m.flags & NLM_F.ACK || !isSuccessAck(reply)));
  }

  sendOffloaded(datagram: Buffer, done: (error: NodeJS.ErrnoException | null) => void): void {
    const [request] = decodeMessages(datagram);
    this.sent.push([request!]);
    this.offloaded.push({ request: request!, done });
  }

  tryReceive(): Buffer | null {
    return this.queue.shift() ?? null;
  }

  start(onDatagrams: (datagrams: Buffer[]) => void): void {
    this.onDatagrams = onDatagrams;
  }

  /** What the event-loop watcher would do when the socket becomes readable. */
  deliver(...datagrams: Buffer[]): void {
    this.onDatagrams?.(datagrams);
  }

  ref(): void {
    this.refed = true;
  }

  unref(): void {
    this.refed = false;
  }

  close(): void {
    this.closed = true;
  }
}

const isSuccessAck = (reply: Buffer): boolean => decodeMessages(reply).every((m) => m.type === NLMSG.ERROR && m.payload.readInt32LE(0) === 0);

function ack(request: Message): Buffer[] {
  return [errorReply(request, 0)];
}

function errorReply(request: Message, errno: number, text?: string): Buffer {
  const { flags, payload } = encodeError(errno, request, text);
  return encodeMessage({ type: NLMSG.ERROR, flags, seq: request.seq, portId: 4242 }, payload);
}

function data(request: Message, type: number, body: string, flags = 0): Buffer {
  return encodeMessage({ type, flags, seq: request.seq, portId: 4242 }, Buffer.from(body));
}

const context = (object: string) => ({ operation: 'testing', object });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('requests of one tick share a datagram, get distinct sequence numbers, and settle one by one', async (t) => {
  const kernel = new ScriptedKernel((m) => [m.payload.toString() === 'b' ? errorReply(m, 17, 'Link already exists') : errorReply(m, 0)]);
  const socket = new RouteSocket(kernel);
  const results = await Promise.allSettled(['a', 'b', 'c'].map((body) => socket.request(RTM.NEWLINK, NLM_F.CREATE, Buffer.from(body), context(body))));
  t.is(kernel.sent.length, 1);
  const seqs = kernel.sent[0]!.map((m) => m.seq);
  t.is(new Set(seqs).size, 3);
  t.true(kernel.sent[0]!.every((m) => m.flags & NLM_F.REQUEST));
  t.deepEqual(
    kernel.sent[0]!.map((m) => Boolean(m.flags & NLM_F.ACK)),
    [false, false, true],
    'only the last asks for an ack',
  );
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const error = (results[1] as PromiseRejectedResult).reason as NetlinkError;
  t.true(error instanceof NetlinkError);
  t.is(error.code, 'EEXIST');
  t.is(error.message, 'EEXIST testing b: file already exists (kernel: Link already exists)');
  t.false(kernel.refed, 'nothing pending: the watcher must not keep the process alive');
});

test('quiet requests settle with the last one of their batch: on its ack, or on its error, and never before', async (t) => {
  // The last request fails: the quiet ones before it, which got no error, succeeded.
  let kernel = new ScriptedKernel((m) => [m.payload.toString() === 'c' ? errorReply(m, 22) : errorReply(m, 0)]);
  let socket = new RouteSocket(kernel);
  let results = await Promise.allSettled(['a', 'b', 'c'].map((body) => socket.request(RTM.NEWADDR, 0, Buffer.from(body), context(body))));
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  t.is(kernel.queue.length, 0);

  // Requests that answer with data (a GET, an echo) keep their ack; the quiet ones wait for the
  // last request's answer even when that comes later, from the event loop.
  kernel = new ScriptedKernel((m) => (m.payload.toString() === 'late' ? [] : m.type === RTM.GETLINK ? [data(m, RTM.NEWLINK, 'link'), errorReply(m, 0)] : [errorReply(m, 0)]));
  socket = new RouteSocket(kernel);
  let quietSettled = false;
  const quiet = socket.request(RTM.SETLINK, 0, Buffer.from('quiet'), context('quiet')).then(() => (quietSettled = true));
  const get = socket.request(RTM.GETLINK, 0, Buffer.from('get'), context('get'));
  const echo = socket.request(RTM.NEWLINK, NLM_F.CREATE, Buffer.from('echo'), { ...context('echo'), echo: true });
  const late = socket.request(RTM.SETLINK, 0, Buffer.from('late'), context('late'));
  t.deepEqual((await get).map((m) => m.payload.toString()), ['link']);
  await echo;
  t.deepEqual(
    kernel.sent[0]!.map((m) => Boolean(m.flags & NLM_F.ACK)),
    [false, true, true, true],
  );
  await tick();
  t.false(quietSettled, 'no answer yet to the last request: the quiet one is not known to have succeeded');
  const lastRequest = kernel.sent[0]!.at(-1)!;
  kernel.deliver(errorReply(lastRequest, 0));
  await Promise.all([quiet, late]);
  t.true(quietSettled);
  t.false(kernel.refed);
});

test('a dump collects every part up to NLMSG_DONE, across datagrams, and goes in a datagram of its own', async (t) => {
  const kernel = new ScriptedKernel((m) =>
    m.flags & NLM_F.DUMP ? [Buffer.concat([data(m, RTM.NEWLINK, 'one', NLM_F.MULTI), data(m, RTM.NEWLINK, 'two', NLM_F.MULTI)]), Buffer.concat([data(m, RTM.NEWLINK, 'three', NLM_F.MULTI), encodeMessage({ type: NLMSG.DONE, flags: NLM_F.MULTI, seq: m.seq, portId: 4242 }, Buffer.alloc(4))])] : ack(m),
  );
  const socket = new RouteSocket(kernel);
  const [, dump] = await Promise.all([socket.request(RTM.SETLINK, 0, Buffer.from('x'), context('x')), socket.dump(RTM.GETLINK, Buffer.alloc(0), context('dump')), socket.request(RTM.SETLINK, 0, Buffer.from('y'), context('y'))]);
  t.deepEqual(
    dump.map((m) => m.payload.toString()),
    ['one', 'two', 'three'],
  );
  t.deepEqual(
    kernel.sent.map((d) => d.length),
    [1, 1, 1],
  );
  t.is(kernel.sent[1]![0]!.flags & NLM_F.DUMP, NLM_F.DUMP);
});

test('an interrupted dump (NLM_F_DUMP_INTR) is asked for again', async (t) => {
  let attempt = 0;
  const kernel = new ScriptedKernel((m) => {
    attempt++;
    const flags = NLM_F.MULTI | (attempt === 1 ? NLM_F.DUMP_INTR : 0);
    return [Buffer.concat([data(m, RTM.NEWADDR, `attempt ${attempt}`, flags), encodeMessage({ type: NLMSG.DONE, flags, seq: m.seq, portId: 4242 }, Buffer.alloc(4))])];
  });
  const replies = await new RouteSocket(kernel).dump(RTM.GETADDR, Buffer.alloc(0), context('dump'));
  t.deepEqual(
    replies.map((m) => m.payload.toString()),
    ['attempt 2'],
  );
});

test('an offloaded request holds back later ones until a reply settles it; its late ack is dropped', async (t) => {
  const kernel = new ScriptedKernel();
  const socket = new RouteSocket(kernel);
  let deleted = false;
  const deletion = socket
    .request(RTM.DELLINK, 0, Buffer.from('gone'), { ...context('gone'), offload: true, echo: true, settledBy: (m) => m.type === RTM.DELLINK && m.payload.toString() === 'gone' })
    .then(() => (deleted = true));
  const after = socket.request(RTM.SETLINK, 0, Buffer.from('after'), context('after'));
  await tick();
  t.is(kernel.offloaded.length, 1);
  const request = kernel.offloaded[0]!.request;
  t.is(request.flags & NLM_F.ECHO, NLM_F.ECHO);
  t.is(kernel.sent.length, 1, 'the next request waits behind the offloaded one');
  t.true(kernel.refed, 'a pending request keeps the watcher referenced');
  // Unrelated traffic with the same sequence number does not settle it.
  kernel.deliver(data(request, RTM.DELLINK, 'someone else'));
  await tick();
  t.false(deleted);
  // The kernel's echo of the deletion: settled while the worker is still in sendto.
  kernel.deliver(data(request, RTM.DELLINK, 'gone'));
  await after;
  t.true(deleted);
  t.is(kernel.sent.length, 2);
  // The late ack arrives and the worker returns: nothing breaks, nothing is resolved twice.
  kernel.deliver(errorReply(request, 0));
  kernel.offloaded[0]!.done(null);
  await deletion;
  t.false(kernel.refed);
});

test('without an echo, the offloaded request settles on its ack and then lets the queue go', async (t) => {
  const kernel = new ScriptedKernel();
  const socket = new RouteSocket(kernel);
  const deletion = socket.request(RTM.DELLINK, 0, Buffer.from('old kernel'), { ...context('old kernel'), offload: true });
  const after = socket.request(RTM.SETLINK, 0, Buffer.from('after'), context('after'));
  await tick();
  const { request, done } = kernel.offloaded[0]!;
  kernel.queue.push(errorReply(request, 0));
  done(null);
  await Promise.all([deletion, after]);
  t.is(kernel.sent.length, 2);
});

test('an offloaded request that fails in sendto rejects with the errno name', async (t) => {
  const kernel = new ScriptedKernel();
  const socket = new RouteSocket(kernel);
  const deletion = socket.request(RTM.DELLINK, 0, Buffer.from('x'), { operation: 'deleting link', object: '"x"', offload: true });
  await tick();
  kernel.offloaded[0]!.done(Object.assign(new Error('ENOBUFS: sendto'), { errno: -105, code: 'ENOBUFS' }));
  const error = await t.throwsAsync(deletion, { instanceOf: NetlinkError });
  t.is(error?.code, 'ENOBUFS');
  t.regex(error?.message ?? '', /^ENOBUFS deleting link "x": /);
});

test('closing rejects what is pending and never closes the descriptor under a worker thread', async (t) => {
  const kernel = new ScriptedKernel();
  const socket = new RouteSocket(kernel);
  const deletion = socket.request(RTM.DELLINK, 0, Buffer.from('x'), { operation: 'deleting link', object: '"x"', offload: true });
  await tick();
  socket.close();
  await t.throwsAsync(deletion, { message: 'netlink socket closed while deleting link "x"' });
  t.false(kernel.closed, 'a worker is still in sendto on this descriptor');
  kernel.offloaded[0]!.done(null);
  t.true(kernel.closed);
  await t.throwsAsync(socket.request(RTM.GETLINK, 0, Buffer.alloc(0), context('late')), { message: /closed/ });
});

test('replies to sequence numbers nobody waits for are ignored', async (t) => {
  const kernel = new ScriptedKernel((m) => [data({ ...m, seq: m.seq + 1000 }, RTM.NEWLINK, 'stray'), data(m, RTM.NEWLINK, 'mine'), errorReply(m, 0)]);
  const replies = await new RouteSocket(kernel).request(RTM.GETLINK, 0, Buffer.alloc(0), context('x'));
  t.deepEqual(
    replies.map((m) => m.payload.toString()),
    ['mine'],
  );
});

test('a sendto failure of a batch fails each of its requests with the errno name', async (t) => {
  const kernel = new ScriptedKernel();
  kernel.send = () => {
    throw Object.assign(new Error('EMSGSIZE: sendto'), { errno: -90, code: 'EMSGSIZE' });
  };
  const socket = new RouteSocket(kernel);
  const results = await Promise.allSettled([socket.request(RTM.NEWLINK, 0, Buffer.alloc(0), context('a')), socket.request(RTM.NEWLINK, 0, Buffer.alloc(0), context('b'))]);
  t.deepEqual(
    results.map((r) => (r.status === 'rejected' ? (r.reason as NetlinkError).code : 'ok')),
    ['EMSGSIZE', 'EMSGSIZE'],
  );
});
