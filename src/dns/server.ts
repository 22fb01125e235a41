// The embedded DNS: one resolver in the daemon serving every sandbox through a UDP and a TCP
// socket bound to 127.0.0.11:53 inside each sandbox's namespace (made by the addon, adopted by
// Node): no process per container, no NAT rule to redirect queries.
import dgram from 'node:dgram';
import net from 'node:net';
import DNS from 'dns2';
import { socketInNamespace } from '../native/netns';
import { decide } from './answer';
import type { Forwarder, Transport } from './forwarder';
import type { NameTable } from './names';

const { Packet } = DNS;

export const DNS_ADDRESS = '127.0.0.11';

/** What a sandbox's queries are answered against, asked per query (networks change live). */
export interface SandboxScope {
  /** IDs of the networks whose names the sandbox sees. */
  networkIds(): readonly string[];
  /** False when every network of the sandbox is --internal: nothing is forwarded. */
  mayForward(): boolean;
}

interface Listeners {
  udp: dgram.Socket;
  tcp: net.Server;
  connections: Set<net.Socket>;
  /** This sandbox's forwards in flight: a flood from one sandbox must leave room for the others. */
  forwarding: number;
}

/** Forwards one sandbox may have in flight (of the forwarder's 1,024); beyond, REFUSED. */
const SANDBOX_FORWARDS = 256;

/** SERVFAIL (no upstream answered) or REFUSED (not forwarded) for a query that parsed. */
function errorReply(query: Buffer, rcode: number): Buffer | undefined {
  try {
    return Packet.createErrorResponseFromRequest(Packet.parse(query), rcode).toBuffer();
  } catch {
    return undefined;
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
    const udp = dgram.createSocket('udp4');
    udp.bind({ fd: socketInNamespace(key, 'udp4', DNS_ADDRESS, 53) });
    const connections = new Set<net.Socket>();
    const tcp = net.createServer((connection) => this.serveTcp(connection, listeners, scope));
    const listeners: Listeners = { udp, tcp, connections, forwarding: 0 };
    udp.on('message', (query, peer) => {
      void this.resolve(query, 'udp', scope, listeners).then((reply) => {
        if (reply) udp.send(reply, peer.port, peer.address);
      });
    });
    udp.on('error', () => undefined);
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
    const decision = decide(query, this.names, scope.networkIds(), transport);
    if ('reply' in decision) return decision.reply;
    if ('drop' in decision) return undefined;
    if (!scope.mayForward() || this.forwarder.saturated || listeners.forwarding >= SANDBOX_FORWARDS) return errorReply(query, Packet.RCODE.REFUSED);
    listeners.forwarding++;
    try {
      return (await this.forwarder.forward(query, transport)) ?? errorReply(query, Packet.RCODE.SERVFAIL);
    } finally {
      listeners.forwarding--;
    }
  }

  /** DNS over TCP: each message with a two-byte length, answered in order of arrival. */
  private serveTcp(connection: net.Socket, listeners: Listeners, scope: SandboxScope): void {
    listeners.connections.add(connection);
    connection.on('close', () => listeners.connections.delete(connection));
    connection.on('error', () => undefined);
    connection.setTimeout(10_000, () => connection.destroy());
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    connection.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        chain = chain.then(async () => {
          const reply = await this.resolve(query, 'tcp', scope, listeners);
          if (!reply || connection.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          connection.write(Buffer.concat([length, reply]));
        });
      }
    });
  }
}
