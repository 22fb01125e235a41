// An in-memory network on a virtual clock for deterministic tests: per-link latency, loss and
// partitions, packets delivered as timers, push-pull exchanges that time out like real streams.
import { seededRandom } from './random';
import { TransportError, type PacketHandler, type StreamHandler, type Transport } from './transport';
import type { Clock } from './clock';

export interface LinkConditions {
  /** One-way delay in virtual ms. */
  latencyMs: number;
  /** Probability in [0, 1] that a packet is lost (streams are reliable, as TCP is). */
  loss: number;
  /** Nothing passes, packets nor streams. */
  blocked: boolean;
}

const DEFAULT_LINK: LinkConditions = { latencyMs: 1, loss: 0, blocked: false };

export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly links = new Map<string, Partial<LinkConditions>>();
  private readonly random: () => number;

  constructor(
    readonly clock: Clock,
    seed = 1,
    readonly maxPacketSize = 1400,
  ) {
    this.random = seededRandom(seed);
  }

  /** A transport reachable at `address`; an address in use is refused. */
  createTransport(address: string): MemoryTransport {
    if (this.endpoints.has(address)) throw new Error(`address ${address} is in use on this memory network`);
    const transport = new MemoryTransport(this, address);
    this.endpoints.set(address, transport);
    return transport;
  }

  /** Sets conditions on the link from `from` to `to` (one direction). */
  setLink(from: string, to: string, conditions: Partial<LinkConditions>): void {
    const key = `${from}>${to}`;
    this.links.set(key, { ...this.links.get(key), ...conditions });
  }

  /** Blocks or unblocks both directions between two addresses. */
  partition(a: string, b: string, blocked = true): void {
    this.setLink(a, b, { blocked });
    this.setLink(b, a, { blocked });
  }

  link(from: string, to: string): LinkConditions {
    return { ...DEFAULT_LINK, ...this.links.get(`${from}>${to}`) };
  }

  /** @internal */
  deliverPacket(from: string, to: string, packet: Buffer): void {
    const link = this.link(from, to);
    if (link.blocked || this.random() < link.loss) return;
    const copy = Buffer.from(packet);
    this.clock.schedule(link.latencyMs, () => this.endpoints.get(to)?.receivePacket(copy, from));
  }

  /** @internal */
  exchange(from: string, to: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, answer?: Buffer): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (error) reject(error);
        else resolve(answer!);
      };
      const timer = this.clock.schedule(timeoutMs, () => finish(new TransportError(`stream to ${to} timed out after ${timeoutMs} ms`, 'timeout')));
      const there = this.link(from, to);
      const back = this.link(to, from);
      if (there.blocked || back.blocked) return; // Times out, as a SYN into a partition does.
      this.clock.schedule(there.latencyMs, () => {
        const endpoint = this.endpoints.get(to);
        if (!endpoint) return finish(new TransportError(`nothing listens at ${to}`, 'refused'));
        const answer = endpoint.answerStream(Buffer.from(request), from);
        if (!answer) return finish(new TransportError(`${to} closed the stream without an answer`, 'refused'));
        this.clock.schedule(back.latencyMs, () => finish(undefined, answer));
      });
    });
  }

  /** @internal */
  remove(address: string): void {
    this.endpoints.delete(address);
  }
}

export class MemoryTransport implements Transport {
  private packetHandler: PacketHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly localAddress: string,
  ) {}

  get maxPacketSize(): number {
    return this.network.maxPacketSize;
  }

  sendPacket(to: string, packet: Buffer): void {
    if (this.closed) return;
    if (packet.length > this.maxPacketSize) throw new TransportError(`packet of ${packet.length} bytes exceeds ${this.maxPacketSize}`, 'too-large');
    this.network.deliverPacket(this.localAddress, to, packet);
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  exchange(to: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new TransportError('transport is closed', 'closed'));
    return this.network.exchange(this.localAddress, to, request, timeoutMs);
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.remove(this.localAddress);
  }

  /** @internal */
  receivePacket(packet: Buffer, from: string): void {
    if (!this.closed) this.packetHandler?.(packet, from);
  }

  /** @internal */
  answerStream(request: Buffer, from: string): Buffer | undefined {
    if (this.closed || !this.streamHandler) return undefined;
    try {
      return this.streamHandler(request, from);
    } catch {
      return undefined;
    }
  }
}
