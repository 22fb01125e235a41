// Queries the embedded DNS does not answer go to the host's resolvers (or a container's own
// `--dns` ones), from the daemon's own namespace. Docker asks them one after another with a 4 s
// timeout each, so a dead first resolver costs 4 s per query (moby/moby#31960). Here the next
// resolver is asked as well (hedged) when the first has not answered within a short delay, and
// resolvers that stopped answering are asked last until they answer again; the first answer wins
// and is relayed as it came.
import dgram from 'node:dgram';
import { bytesToIp, ipToBytes } from '../ip/address';
import { MessageReader, withLength } from './tcp-framing';
import net from 'node:net';

export interface Upstream {
  address: string;
  port: number;
}

export type Transport = 'udp' | 'tcp';

export interface ForwarderOptions {
  /** Delay before the next resolver is asked as well (default 50 ms). */
  hedgeAfterMs?: number;
  /** Give up (the caller answers SERVFAIL) after this long (default 5 s). */
  timeoutMs?: number;
  /** Forwards in flight at most; beyond, the caller answers REFUSED (default 1024). */
  maxInFlight?: number;
}

/** The resolvers of a resolv.conf, at most three as libc reads them; loopback ones are kept (the daemon runs in the host's namespace). */
export function upstreamsOf(resolvConf: string): Upstream[] {
  const found: Upstream[] = [];
  for (const line of resolvConf.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const address = match?.[1]?.replace(/%.*$/, '');
    if (address && net.isIP(address) !== 0) found.push({ address, port: 53 });
  }
  return found.slice(0, 3);
}

/** Forwards in flight, counted across a forwarder and those made from it for other resolvers. */
interface InFlight {
  count: number;
}

export class Forwarder {
  /** Upstreams that missed their last answer, until they answer again. */
  private readonly unhealthy = new Set<string>();
  private readonly hedgeAfterMs: number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly upstreams: readonly Upstream[];

  constructor(
    upstreams: readonly Upstream[],
    private readonly options: ForwarderOptions = {},
    private readonly inFlight: InFlight = { count: 0 },
  ) {
    // Canonical text (2001:DB8::0:1 → 2001:db8::1): one resolver has one health entry however written.
    this.upstreams = upstreams.map((u) => ({ ...u, address: bytesToIp(ipToBytes(u.address)) }));
    this.hedgeAfterMs = options.hedgeAfterMs ?? 50;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 1024;
  }

  /** Whether one more forward may start now. */
  get saturated(): boolean {
    return this.inFlight.count >= this.maxInFlight;
  }

  /** A forwarder asking other resolvers (a sandbox's own --dns), within the same limits and count of forwards in flight. */
  withUpstreams(upstreams: readonly Upstream[]): Forwarder {
    return new Forwarder(upstreams, this.options, this.inFlight);
  }

  /** The first upstream answer to `query` (same transport), or undefined when none came in time. */
  async forward(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (this.upstreams.length === 0) return undefined;
    this.inFlight.count++;
    const order = [...this.upstreams].sort((a, b) => Number(this.unhealthy.has(key(a))) - Number(this.unhealthy.has(key(b))));
    const cancels: Array<() => void> = [];
    let winner: Upstream | undefined;
    try {
      return await new Promise<Buffer | undefined>((resolve) => {
        let settled = false;
        let failed = 0;
        let next = 0;
        let hedge: NodeJS.Timeout | undefined;
        const finish = (answer: Buffer | undefined): void => {
          if (settled) return;
          settled = true;
          clearTimeout(overall);
          clearTimeout(hedge);
          resolve(answer);
        };
        // Asks the next upstream in order, and arms the hedge that asks the one after it.
        const askNext = (): void => {
          clearTimeout(hedge);
          const upstream = order[next++];
          if (!upstream || settled) return;
          cancels.push(
            (transport === 'udp' ? askUdp : askTcp)(upstream, query, (answer) => {
              if (answer) {
                winner = upstream;
                finish(answer);
              } else if (++failed === order.length) finish(undefined);
              else if (next - failed === 0) askNext();
            }),
          );
          if (next < order.length) hedge = setTimeout(askNext, this.hedgeAfterMs);
        };
        const overall = setTimeout(() => finish(undefined), this.timeoutMs);
        askNext();
      });
    } finally {
      this.inFlight.count--;
      for (const cancel of cancels) cancel();
      // An upstream asked that did not answer first is asked later next time, until it answers first.
      for (const upstream of order.slice(0, cancels.length)) {
        if (upstream === winner) this.unhealthy.delete(key(upstream));
        else this.unhealthy.add(key(upstream));
      }
    }
  }
}

const key = (u: Upstream): string => `${u.address}#${u.port}`;

/**
 * One UDP exchange from a fresh socket (a random source port per query); returns a canceller.
 * The socket is connected: the kernel then drops datagrams from anyone but the upstream, and an
 * upstream with nothing on its port (ICMP port unreachable) fails at once as ECONNREFUSED instead
 * of waiting for the hedge or the timeout; so does a send with no route to it.
 */
function askUdp(upstream: Upstream, query: Buffer, done: (answer: Buffer | undefined) => void): () => void {
  const socket = dgram.createSocket(upstream.address.includes(':') ? 'udp6' : 'udp4');
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    socket.close();
  };
  const finish = (answer: Buffer | undefined): void => {
    if (closed) return;
    close();
    done(answer);
  };
  // The same ID: a stray datagram from the upstream (a late answer to another query) is not ours.
  socket.on('message', (answer) => answer.length >= 2 && answer.readUInt16BE(0) === query.readUInt16BE(0) && finish(answer));
  socket.on('error', () => finish(undefined));
  // Connecting (a route lookup) and sending report failures to their callbacks, not as 'error'.
  socket.connect(upstream.port, upstream.address, (connectError?: Error) => {
    if (connectError) finish(undefined);
    else if (!closed) socket.send(query, (sendError) => sendError && finish(undefined));
  });
  return close;
}

/** One TCP exchange (two-byte length prefix each way); returns a canceller. */
function askTcp(upstream: Upstream, query: Buffer, done: (answer: Buffer | undefined) => void): () => void {
  const socket = net.connect({ host: upstream.address, port: upstream.port });
  socket.end(withLength(query));
  const reader = new MessageReader();
  let answered = false;
  socket.on('data', (chunk: Buffer) => {
    const [answer] = reader.push(chunk);
    if (!answered && answer) {
      answered = true;
      socket.destroy();
      done(answer);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (!answered) {
      answered = true;
      done(undefined);
    }
  });
  return () => socket.destroy();
}
