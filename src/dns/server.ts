// The embedded DNS: one resolver in the daemon serving every sandbox through a UDP and a TCP
// socket bound to 127.0.0.11:53 inside each sandbox's namespace (made by the addon; UDP served in
// batches by the addon, TCP adopted by Node): no process per container, no NAT rule.
import net from 'node:net';
import DNS from 'dns2';
import { native, type NativeUdpBatch } from '../native/addon';
import { reportUnhandled } from '../native/callback-guard';
import { socketInNamespace } from '../native/netns';
import { type Decision, decide } from './answer';
import type { Forwarder, Transport, Upstream } from './forwarder';
import type { NameTable } from './names';
import { MessageReader, withLength } from './tcp-framing';

const { Packet } = DNS;

export const DNS_ADDRESS = '127.0.0.11';

/** What a sandbox's queries are answered against, asked per query (networks change live). */
export interface SandboxScope {
  /** IDs of the networks whose names the sandbox sees. */
  networkIds(): readonly string[];
  /** False when the sandbox has no network that is not --internal (none at all, say): nothing is forwarded. */
  mayForward(): boolean;
  /** Resolvers of this sandbox's own (`run --dns`), asked instead of the daemon's. */
  upstreams?: Upstream[];
}

interface Listeners {
  udp: NativeUdpBatch;
  tcp: net.Server;
  connections: Set<net.Socket>;
  /** This sandbox's forwards in flight: a flood from one sandbox must leave room for the others. */
  forwarding: number;
  forwarder: Forwarder;
}

/** Forwards one sandbox may have in flight (of the 1,024 of all sandboxes); beyond, REFUSED. */
const SANDBOX_FORWARDS = 256;

/** SERVFAIL (no upstream answered) or REFUSED (not forwarded) for a query that parsed. */
function errorReply(query: Buffer, rcode: number): Buffer | undefined {
  try {
    return Packet.createErrorResponseFromRequest(Packet.parse(query), rcode).toBuffer();
  } catch {
    return undefined;
  }
}

/** decide, or SERVFAIL for a query it fails on (a bug): that query loses its answer, not its batch. */
function decideSafely(query: Buffer, names: NameTable, networkIds: readonly string[], transport: Transport): Decision {
  try {
    return decide(query, names, networkIds, transport);
  } catch (error) {
    reportUnhandled(error, 'the answer to a DNS query');
    const reply = errorReply(query, Packet.RCODE.SERVFAIL);
    return reply ? { reply } : { drop: true };
  }
}

export class DnsServer {
  private readonly sandboxes = new Map<string, Listeners>();

  constructor(
    private readonly names: NameTable,
    private readonly forwarder: Forwarder,
  ) {}

  /** Starts answering in the sandbox at `key` (a namespace path). */
  open(key: string, scope: SandboxScope): void {
    if (this.sandboxes.has(key)) return;
    const udp = new (native().UdpBatch)(socketInNamespace(key, 'udp4', DNS_ADDRESS, 53));
    const connections = new Set<net.Socket>();
    const tcp = net.createServer((connection) => this.serveTcp(connection, listeners, scope));
    const listeners: Listeners = { udp, tcp, connections, forwarding: 0, forwarder: scope.upstreams ? this.forwarder.withUpstreams(scope.upstreams) : this.forwarder };
    udp.start((queries, peers) => this.serveUdp(queries, peers, listeners, scope));
    tcp.listen({ fd: socketInNamespace(key, 'tcp4', DNS_ADDRESS, 53) });
    tcp.on('error', () => undefined);
    this.sandboxes.set(key, listeners);
  }

  /** Stops answering in a sandbox (its teardown). */
  close(key: string): void {
    const listeners = this.sandboxes.get(key);
    if (!listeners) return;
    this.sandboxes.delete(key);
    listeners.udp.close();
    listeners.tcp.close();
    for (const connection of listeners.connections) connection.destroy();
  }

  closeAll(): void {
    for (const key of [...this.sandboxes.keys()]) this.close(key);
  }

  private async resolve(query: Buffer, transport: Transport, scope: SandboxScope, listeners: Listeners): Promise<Buffer | undefined> {
    const decision = decideSafely(query, this.names, scope.networkIds(), transport);
    if ('reply' in decision) return decision.reply;
    if ('drop' in decision) return undefined;
    return this.forward(query, transport, scope, listeners);
  }

  /** Hands a query to the upstream resolvers; SERVFAIL when none answers, REFUSED when not allowed now. */
  private async forward(query: Buffer, transport: Transport, scope: SandboxScope, listeners: Listeners): Promise<Buffer | undefined> {
    if (!scope.mayForward() || listeners.forwarder.saturated || listeners.forwarding >= SANDBOX_FORWARDS) return errorReply(query, Packet.RCODE.REFUSED);
    listeners.forwarding++;
    try {
      return (await listeners.forwarder.forward(query, transport)) ?? errorReply(query, Packet.RCODE.SERVFAIL);
    } finally {
      listeners.forwarding--;
    }
  }

  /**
   * A batch of UDP queries: the ones answered here go back in one batch at once; forwarded ones
   * are sent as their answers arrive.
   */
  private serveUdp(queries: Buffer[], peers: Buffer[], listeners: Listeners, scope: SandboxScope): void {
    const replies: Buffer[] = [];
    const to: Buffer[] = [];
    const networkIds = scope.networkIds();
    queries.forEach((query, i) => {
      const decision = decideSafely(query, this.names, networkIds, 'udp');
      if ('reply' in decision) {
        replies.push(decision.reply);
        to.push(peers[i]!);
      } else if ('forward' in decision) {
        this.forward(query, 'udp', scope, listeners)
          .then((reply) => {
            if (reply) listeners.udp.send([reply], [peers[i]!]);
          })
          .catch((error: unknown) => reportUnhandled(error, 'a forwarded DNS query'));
      }
    });
    if (replies.length > 0) listeners.udp.send(replies, to);
  }

  /** DNS over TCP: each message with a two-byte length, answered in order of arrival. */
  private serveTcp(connection: net.Socket, listeners: Listeners, scope: SandboxScope): void {
    listeners.connections.add(connection);
    connection.on('close', () => listeners.connections.delete(connection));
    connection.on('error', () => undefined);
    connection.setTimeout(10_000, () => connection.destroy());
    const reader = new MessageReader();
    let chain = Promise.resolve();
    connection.on('data', (chunk: Buffer) => {
      for (const query of reader.push(chunk)) {
        chain = chain
          .then(async () => {
            const reply = await this.resolve(query, 'tcp', scope, listeners);
            if (reply && !connection.destroyed) connection.write(withLength(reply));
          })
          .catch((error: unknown) => {
            // Nobody awaits the chain: unreported, the rejection would end the process.
            reportUnhandled(error, 'a DNS query over TCP');
            connection.destroy();
          });
      }
    });
  }
}
