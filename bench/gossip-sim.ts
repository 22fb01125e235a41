// A deterministic gossip simulator for `npm run bench -- gossip-sim`: the real Membership and
// NetworkTables on a MemoryNetwork, driven by a batched virtual clock, with uniform packet loss
// and per-member byte counters. It lives in bench/ because only the benchmark needs its shortcuts
// (the clock below runs timers back to back instead of settling promises after each one, and
// members start from a converged view, see seedViews).
import { BroadcastQueue } from '../src/cluster/broadcast-queue';
import type { Clock, TimerHandle } from '../src/cluster/clock';
import { decode, encode, type Message, type PushNodeState } from '../src/cluster/codec';
import { MemoryNetwork, type MemoryTransport } from '../src/cluster/memory-transport';
import { Membership, type MembershipOptions } from '../src/cluster/membership';
import { NetworkTables } from '../src/cluster/network-tables';
import { seededRandom } from '../src/cluster/random';
import { decodeTableMessage, encodeTableMessage, type NetworkEvent } from '../src/cluster/table-codec';
import type { PacketHandler, StreamHandler, Transport } from '../src/cluster/transport';

interface Pending {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

const before = (a: Pending, b: Pending): boolean => a.at < b.at || (a.at === b.at && a.order < b.order);
const yieldToPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time for thousands of members: a binary heap (VirtualClock's sorted array costs O(n) per
 * timer), and promise callbacks settle once per virtual millisecond rather than after every timer,
 * which is what makes 5,000 members affordable. Push-pull continuations run up to 1 ms late.
 */
export class BatchedClock implements Clock {
  private time = 0;
  private order = 0;
  private readonly heap: Pending[] = [];

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const pending: Pending = { at: this.time + Math.max(0, delayMs), order: this.order++, fn, cancelled: false };
    const heap = this.heap;
    let i = heap.push(pending) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    return { cancel: () => void (pending.cancelled = true) };
  }

  private pop(): Pending {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }

  /** Runs every timer due within `ms`, a virtual millisecond at a time, then leaves the clock at now + ms. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    while (this.time < end) {
      const slice = Math.min(end, Math.floor(this.time) + 1);
      while (this.heap.length > 0 && this.heap[0]!.at <= slice) {
        const next = this.pop();
        if (next.cancelled) continue;
        this.time = next.at;
        next.fn();
      }
      this.time = slice;
      await yieldToPromises();
    }
  }

  /** Advances in `stepMs` steps until `condition` holds; the virtual ms it took, or undefined after `maxMs`. */
  async runUntil(condition: () => boolean, maxMs: number, stepMs = 10): Promise<number | undefined> {
    const start = this.time;
    while (!condition()) {
      if (this.time - start >= maxMs) return undefined;
      await this.advance(stepMs);
    }
    return this.time - start;
  }
}

/** A member's transport with uniform packet loss and a count of the bytes it sends (packets and streams). */
class CountingTransport implements Transport {
  bytesSent = 0;

  constructor(
    private readonly inner: Transport,
    private readonly loss: number,
    private readonly random: () => number,
  ) {}

  get localAddress(): string {
    return this.inner.localAddress;
  }

  get maxPacketSize(): number {
    return this.inner.maxPacketSize;
  }

  sendPacket(to: string, packet: Buffer): void {
    this.bytesSent += packet.length;
    if (this.loss > 0 && this.random() < this.loss) return;
    this.inner.sendPacket(to, packet);
  }

  onPacket(handler: PacketHandler): void {
    this.inner.onPacket(handler);
  }

  exchange(to: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    this.bytesSent += request.length;
    return this.inner.exchange(to, request, timeoutMs);
  }

  onStream(handler: StreamHandler): void {
    this.inner.onStream((request, from) => {
      const answer = handler(request, from);
      if (answer) this.bytesSent += answer.length;
      return answer;
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface SimNode {
  index: number;
  member: Membership;
  tables: NetworkTables | undefined;
  transport: CountingTransport;
  /** The member's end of the memory network, where the seeding push-pulls arrive. */
  wire: MemoryTransport;
  running: boolean;
  /** Members this one has seen join (minus those it saw leave): n - 1 once it knows everyone. */
  known: number;
}

/** Where the seeding exchanges come from: no member has this address. */
const SEEDER = '192.0.2.1:7946';

/** A member's gossip queue: only the seeding drops what is in it. */
function spentGossip(member: Membership): BroadcastQueue {
  const queue = (member as unknown as { broadcasts?: unknown }).broadcasts;
  if (!(queue instanceof BroadcastQueue)) throw new Error('Membership no longer keeps its gossip queue in `broadcasts`: update seedViews');
  return queue;
}

export interface SimulatorOptions {
  nodes: number;
  /** Probability in [0, 1] that a packet is lost, on every link. */
  loss: number;
  seed?: number;
  membership?: Partial<MembershipOptions>;
}

export class GossipSimulator {
  readonly clock = new BatchedClock();
  readonly nodes: SimNode[] = [];
  private readonly network: MemoryNetwork;

  constructor(readonly options: SimulatorOptions) {
    const seed = options.seed ?? 1;
    this.network = new MemoryNetwork(this.clock, seed);
    for (let index = 0; index < options.nodes; index++) {
      const wire = this.network.createTransport(`10.${index >> 16}.${(index >> 8) & 255}.${index & 255}:7946`);
      const transport = new CountingTransport(wire, options.loss, seededRandom(seed * 7919 + index));
      const member = new Membership({ name: `node-${index}`, transport, clock: this.clock, random: seededRandom(seed * 1_000_003 + index), ...options.membership });
      const node: SimNode = { index, member, tables: undefined, transport, wire, running: true, known: 0 };
      member.onEvent((event) => {
        if (event.type === 'join') node.known++;
        else if (event.type === 'leave') node.known--;
      });
      this.nodes.push(node);
    }
  }

  running(): SimNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /**
   * Starts every member with every other in its view, as if the cluster had formed long ago:
   * a push-pull from the simulator carrying every member's own state (each member's real
   * stream handler merges it), then the gossip those merges queued (an alive message about each
   * member, which every member already has) is dropped as spent. Joining thousands of members
   * through the protocol costs n² log n messages, what a forming cluster pays once, and is not
   * what this bench measures; everything after the seeding is the real protocol.
   */
  seedViews(): void {
    for (const node of this.nodes) node.member.start();
    const nodes: PushNodeState[] = this.nodes.flatMap((node) => {
      const answer = this.pushPull(node, encode({ type: 'push-pull', nodes: [] }));
      if (answer?.type !== 'push-pull') throw new Error(`${node.member.name} did not answer the seeding push-pull`);
      return answer.nodes;
    });
    const everyone = encode({ type: 'push-pull', nodes });
    for (const node of this.nodes) {
      this.pushPull(node, everyone);
      spentGossip(node.member).clear();
    }
    const n = this.nodes.length;
    const partial = this.nodes.find((node) => node.known !== n - 1);
    if (partial) throw new Error(`${partial.member.name} knows ${partial.known} of the other ${n - 1} members after seeding`);
  }

  /** Starts network tables on every member, all on `network`, and waits until each sees all on it. */
  async startTables(network: string, maxMs: number): Promise<void> {
    for (const node of this.nodes) {
      node.tables = new NetworkTables({ membership: node.member, clock: this.clock, random: seededRandom(node.index + 7) });
      node.tables.start();
    }
    const n = this.nodes.length;
    let joined = false;
    void Promise.all(this.nodes.map((node) => node.tables!.joinNetwork(network))).then(() => void (joined = true));
    // Each member's network join, handed to every other as a networks-sync would (applied, not
    // regossiped): the n² messages of the joins' gossip are, again, the forming of the cluster.
    const events: NetworkEvent[] = this.nodes.flatMap((node) => this.networksSync(node, []));
    for (const node of this.nodes) this.networksSync(node, events);
    // Members found complete stay complete, so each check resumes where the last one stopped.
    let complete = 0;
    const allComplete = (): boolean => {
      while (complete < n && this.nodes[complete]!.tables!.nodesOf(network).length === n) complete++;
      return joined && complete === n;
    };
    if ((await this.clock.runUntil(allComplete, maxMs, 100)) === undefined) {
      throw new Error(`${n} members did not all see each other on network ${network} within ${maxMs} virtual ms`);
    }
  }

  /** Hands `request` to the member's stream handler as a stream from the seeder would; its decoded answer. */
  private pushPull(node: SimNode, request: Buffer): Message | undefined {
    const answer = node.wire.answerStream(request, SEEDER);
    const decoded = answer && decode(answer);
    return decoded?.ok ? decoded.message : undefined;
  }

  private networksSync(node: SimNode, events: NetworkEvent[]): NetworkEvent[] {
    const request = encode({ type: 'user', payload: encodeTableMessage({ type: 'networks-sync', events }) });
    const answer = this.pushPull(node, request);
    const table = answer?.type === 'user' ? decodeTableMessage(answer.payload) : undefined;
    if (!table?.ok || table.message.type !== 'networks-sync') throw new Error(`${node.member.name} did not answer the seeding networks-sync`);
    return table.message.events;
  }

  bytesSent(): number {
    return this.running().reduce((sum, node) => sum + node.transport.bytesSent, 0);
  }

  suspicions(): number {
    return this.running().reduce((sum, node) => sum + node.member.suspectsSeen, 0);
  }

  async kill(node: SimNode): Promise<void> {
    node.running = false;
    node.tables?.stop();
    await node.member.shutdown();
  }

  async shutdown(): Promise<void> {
    for (const node of this.running()) await this.kill(node);
  }
}
