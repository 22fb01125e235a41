// SWIM membership with Lifeguard's refinements: each member probes one other per interval,
// asks k others to probe it indirectly when the direct ack is late, suspects it if none answer,
// and declares it dead once the suspicion times out (sooner as others confirm it). Updates ride
// on probes and gossip rounds; push-pull exchanges full state on join and periodically.
import { BroadcastQueue } from './broadcast-queue';
import { systemClock, type Clock } from './clock';
import { Timers } from './timers';
import { shuffle } from './random';
import { COMPOUND_HEADER, COMPOUND_PART_OVERHEAD, decode, encode, encodeCompound, MAX_META_BYTES, MAX_NAME_BYTES, type MemberState, type Message, type PushNodeState } from './codec';
import { decrypt, DropCounters, encrypt, ENCRYPTION_OVERHEAD } from './crypto';
import type { Keyring } from './keyring';
import { numericSettings } from './settings';
import { baseSuspicionTimeoutMs, Suspicion } from './suspicion';
import type { Transport } from './transport';

export interface MemberInfo {
  name: string;
  address: string;
  meta: Buffer;
  incarnation: number;
  state: MemberState;
}

export type NodeEventType = 'join' | 'leave' | 'update';
export interface NodeEvent {
  type: NodeEventType;
  node: MemberInfo;
}

/** Gets a packet of the layer above (the network tables) and the sender's address. */
export type UserPacketHandler = (payload: Buffer, from: string) => void;
/** Answers a request of the layer above; undefined closes the stream unanswered. */
export type UserRequestHandler = (payload: Buffer, from: string) => Buffer | undefined;

export interface MembershipOptions {
  /** Unique in the cluster. */
  name: string;
  transport: Transport;
  clock?: Clock;
  /** In [0, 1); seed it for deterministic tests. */
  random?: () => number;
  /** When set, every packet and stream is encrypted and unencrypted ones are dropped. */
  keyring?: Keyring;
  meta?: Buffer;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Members asked to probe indirectly when a direct probe fails. */
  indirectChecks?: number;
  suspicionMultiplier?: number;
  suspicionMaxTimeoutMultiplier?: number;
  retransmitMultiplier?: number;
  gossipIntervalMs?: number;
  gossipNodes?: number;
  pushPullIntervalMs?: number;
  /** How long dead and left members stay listed before they are forgotten. */
  deadReapMs?: number;
  streamTimeoutMs?: number;
  /** Upper bound of the health multiplier that stretches probe timeouts of a struggling member. */
  awarenessMaxMultiplier?: number;
  /** How long leave() waits for its announcement to be gossiped. */
  leaveTimeoutMs?: number;
}

// Faster than memberlist's LAN profile (1 s, 500 ms, ×4): a dead host is declared in about 2.5 s
// at 20 members rather than 6–8 s, for about twice the probe traffic (a few hundred bytes a second).
const DEFAULTS = {
  probeIntervalMs: 500,
  probeTimeoutMs: 250,
  indirectChecks: 3,
  suspicionMultiplier: 3,
  suspicionMaxTimeoutMultiplier: 6,
  retransmitMultiplier: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  pushPullIntervalMs: 30_000,
  deadReapMs: 30_000,
  streamTimeoutMs: 10_000,
  awarenessMaxMultiplier: 8,
  leaveTimeoutMs: 5_000,
};

type Settings = typeof DEFAULTS;

const NACK_TIMEOUT_FRACTION = 0.8;

/** Members above which full-state exchanges space out (memberlist's threshold). */
const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * A push-pull carries every member, so its bytes grow with the cluster: above 32 members the
 * interval grows by one base interval each time the cluster doubles, as memberlist spaces them.
 */
export function pushPullIntervalMs(baseMs: number, members: number): number {
  if (members <= PUSH_PULL_SCALE_THRESHOLD) return baseMs;
  return baseMs * (Math.ceil(Math.log2(members) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1);
}

interface NodeRecord extends MemberInfo {
  stateChangedAt: number;
}

interface AckHandler {
  onAck(): void;
  onNack(): void;
}

export class JoinError extends Error {
  constructor(readonly failures: { seed: string; error: string }[]) {
    super(`could not join the cluster through any seed: ${failures.map((f) => `${f.seed}: ${f.error}`).join('; ')}; check the addresses and that every member has the same key`);
    this.name = 'JoinError';
  }
}

function settingsFrom(options: MembershipOptions): Settings {
  const settings = numericSettings('membership', DEFAULTS, options, 'non-negative');
  if (settings.probeTimeoutMs >= settings.probeIntervalMs) {
    throw new RangeError(`probeTimeoutMs (${settings.probeTimeoutMs}) must be shorter than probeIntervalMs (${settings.probeIntervalMs}) to leave time for indirect probes`);
  }
  if (!options.name || Buffer.byteLength(options.name) > MAX_NAME_BYTES) throw new RangeError(`a member needs a name of 1 to ${MAX_NAME_BYTES} bytes, unique in the cluster`);
  if (options.meta && options.meta.length > MAX_META_BYTES) throw new RangeError(`member metadata is ${options.meta.length} bytes, more than ${MAX_META_BYTES}`);
  return settings;
}

const down = (state: MemberState): boolean => state === 'dead' || state === 'left';

/** A copy listeners may keep; empty metadata (nothing to write into) is shared rather than copied. */
function snapshot(record: NodeRecord): MemberInfo {
  return { name: record.name, address: record.address, meta: record.meta.length === 0 ? record.meta : Buffer.from(record.meta), incarnation: record.incarnation, state: record.state };
}

export class Membership {
  readonly name: string;
  readonly drops = new DropCounters();
  /** Members this node has seen go from alive to suspect: in a healthy cluster, only those that then died. */
  suspectsSeen = 0;
  private readonly settings: Settings;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly keyring: Keyring | undefined;
  private readonly nodes = new Map<string, NodeRecord>();
  /** The records of `nodes` other than self, for random picks in O(1) a draw. */
  private others: NodeRecord[] = [];
  /** Members not known to be down, self included. */
  private live = 1;
  private readonly self: NodeRecord;
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private seq = 0;
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly broadcasts: BroadcastQueue;
  private readonly listeners = new Set<(event: NodeEvent) => void>();
  private userPacketHandler: UserPacketHandler | undefined;
  private userRequestHandler: UserRequestHandler | undefined;
  /** Addresses join() was given: retried by anti-entropy while no live member holds them. */
  private readonly seeds = new Set<string>();
  private awareness = 0;
  private gossipSoon = false;
  private started = false;
  private stopped = false;
  private leaving = false;

  constructor(options: MembershipOptions) {
    this.name = options.name;
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.timers = new Timers(this.clock);
    this.random = options.random ?? Math.random;
    this.keyring = options.keyring;
    this.settings = settingsFrom(options);
    this.broadcasts = new BroadcastQueue(this.settings.retransmitMultiplier, () => this.liveCount());
    this.self = { name: options.name, address: this.transport.localAddress, meta: options.meta ?? Buffer.alloc(0), incarnation: 1, state: 'alive', stateChangedAt: this.clock.now() };
    this.nodes.set(this.name, this.self);
    this.probeOrder.push(this.name);
  }

  /** Starts answering and probing; call once, before join. */
  start(): void {
    if (this.started) throw new Error(`member ${this.name} was already started`);
    this.started = true;
    this.transport.onPacket((packet, from) => this.receivePacket(packet, from));
    this.transport.onStream((request, from) => this.answerStream(request, from));
    // Announce ourselves: whoever we meet first passes it on, besides the seed's own rebroadcast.
    this.queueBroadcast(this.name, this.aliveMessage(this.self));
    this.scheduleProbe(this.settings.probeIntervalMs);
    this.timers.every('gossip', this.settings.gossipIntervalMs, () => this.gossip());
    this.timers.repeat('push-pull', () => pushPullIntervalMs(this.settings.pushPullIntervalMs, this.liveCount()), () => void this.antiEntropy());
  }

  /** Exchanges full state with each seed; resolves with how many answered, rejects if none did. */
  async join(seeds: string[]): Promise<number> {
    const failures: { seed: string; error: string }[] = [];
    let joined = 0;
    for (const seed of seeds) {
      if (seed === this.self.address) continue;
      this.seeds.add(seed);
      try {
        await this.pushPull(seed);
        joined++;
      } catch (error) {
        failures.push({ seed, error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (joined === 0 && failures.length > 0) throw new JoinError(failures);
    return joined;
  }

  /** Announces a graceful leave, waits until it was gossiped (or leaveTimeoutMs), stops probing. */
  async leave(): Promise<void> {
    if (this.leaving || this.stopped) return;
    this.leaving = true;
    this.setState(this.self, 'left');
    if (this.randomMembers(1, (r) => !down(r.state)).length === 0) return;
    await new Promise<void>((resolve) => {
      const timer = this.clock.schedule(this.settings.leaveTimeoutMs, resolve);
      const message = encode({ type: 'dead', incarnation: this.self.incarnation, node: this.name, from: this.name });
      this.queueBroadcast(this.name, message, () => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** Replaces this member's metadata; others see an 'update' event. */
  updateMeta(meta: Buffer): void {
    if (meta.length > MAX_META_BYTES) throw new RangeError(`member metadata is ${meta.length} bytes, more than ${MAX_META_BYTES}`);
    if (this.leaving || this.stopped) throw new Error(`member ${this.name} is leaving or stopped: its metadata can no longer change`);
    this.self.meta = Buffer.from(meta);
    this.self.incarnation++;
    this.queueBroadcast(this.name, this.aliveMessage(this.self));
  }

  /** Stops every timer and closes the transport; no leave is announced (see leave()). */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.stop();
    for (const suspicion of this.suspicions.values()) suspicion.cancel();
    this.suspicions.clear();
    this.ackHandlers.clear();
    this.broadcasts.clear();
    await this.transport.close();
  }

  /** Every known member, self included, down ones until they are reaped. */
  members(): MemberInfo[] {
    return [...this.nodes.values()].map(snapshot);
  }

  member(name: string): MemberInfo | undefined {
    const record = this.nodes.get(name);
    return record && snapshot(record);
  }

  /** The string this member holds for `name`: the layer above keys its own records by it rather than by a decoded copy. */
  heldName(name: string): string | undefined {
    return this.nodes.get(name)?.name;
  }

  /** `name`'s address while it is alive, without the copy member() makes: the layer above picks gossip targets by it. */
  aliveAddress(name: string): string | undefined {
    const record = this.nodes.get(name);
    return record?.state === 'alive' ? record.address : undefined;
  }

  /** `name`'s state, without the copy member() makes: the layer above asks for every gossip target. */
  stateOf(name: string): MemberState | undefined {
    return this.nodes.get(name)?.state;
  }

  /** Addresses of up to `count` random alive members other than this one, in O(count) in a healthy cluster. */
  randomAliveAddresses(count: number): string[] {
    return this.randomMembers(count, (r) => r.state === 'alive').map((r) => r.address);
  }

  /** Members not known to be down, self included (at least 1): the cluster size gossip scales with. */
  liveCount(): number {
    return Math.max(this.live, 1);
  }

  /** The health multiplier probes currently wait with (1 = healthy). */
  get healthMultiplier(): number {
    return this.awareness + 1;
  }

  get localAddress(): string {
    return this.self.address;
  }

  /** Calls `listener` on every join, leave and metadata update of another member; returns an unsubscribe. */
  onEvent(listener: (event: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- channel for the layer above ----------------------------------------------------------

  /** Largest payload sendUserPacket carries in one packet. */
  get maxUserPacketBytes(): number {
    return this.transport.maxPacketSize - (this.keyring ? ENCRYPTION_OVERHEAD : 0) - COMPOUND_HEADER - COMPOUND_PART_OVERHEAD - 1;
  }

  onUserPacket(handler: UserPacketHandler): void {
    this.userPacketHandler = handler;
  }

  onUserRequest(handler: UserRequestHandler): void {
    this.userRequestHandler = handler;
  }

  /** Best effort, encrypted like gossip; queued membership updates ride along if they fit. */
  sendUserPacket(to: string, payload: Buffer): void {
    if (this.stopped) return;
    if (payload.length > this.maxUserPacketBytes) throw new RangeError(`a user packet is at most ${this.maxUserPacketBytes} bytes, got ${payload.length}`);
    this.sendMessages(to, [encode({ type: 'user', payload })]);
  }

  /** Sends `payload` over a stream and resolves with the other side's answer. */
  async requestUser(to: string, payload: Buffer): Promise<Buffer> {
    if (this.stopped) throw new Error(`member ${this.name} is stopped`);
    const answer = await this.transport.exchange(to, this.seal(encode({ type: 'user', payload })), this.settings.streamTimeoutMs);
    const message = this.open(answer, Infinity);
    if (!message || message.type !== 'user') throw new Error(`${to} answered with an unreadable message (wrong key?)`);
    return message.payload;
  }

  private handleUserPacket(payload: Buffer, from: string): void {
    try {
      this.userPacketHandler?.(payload, from);
    } catch {
      // The layer above drops what it cannot use; it must not stop membership.
    }
  }

  // --- timers --------------------------------------------------------------------------------



  private scheduleProbe(delayMs: number): void {
    this.timers.once('probe', delayMs, () => {
      if (this.leaving) return;
      const periodMs = this.settings.probeIntervalMs * this.healthMultiplier;
      this.probe(periodMs);
      this.scheduleProbe(periodMs);
    });
  }

  // --- probing -------------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** Round-robin over a shuffled list; each wrap forgets long-dead members and reshuffles. */
  private nextProbeTarget(): NodeRecord | undefined {
    for (let checked = 0; checked <= this.probeOrder.length; checked++) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.reapAndShuffle();
        this.probeIndex = 0;
      }
      const record = this.nodes.get(this.probeOrder[this.probeIndex++]!);
      if (record && record !== this.self && !down(record.state)) return record;
    }
    return undefined;
  }

  private reapAndShuffle(): void {
    const now = this.clock.now();
    for (const record of [...this.nodes.values()]) {
      if (record !== this.self && down(record.state) && now - record.stateChangedAt >= this.settings.deadReapMs) this.nodes.delete(record.name);
    }
    this.others = [...this.nodes.values()].filter((r) => r !== this.self);
    this.probeOrder = shuffle([...this.nodes.keys()], this.random);
  }

  private probe(periodMs: number): void {
    const target = this.nextProbeTarget();
    if (!target) return;
    const seq = this.nextSeq();
    let acked = false;
    let nacks = 0;
    let expectedNacks = 0;
    this.ackHandlers.set(seq, { onAck: () => void (acked = true), onNack: () => void nacks++ });
    const ping = encode({ type: 'ping', seq, target: target.name });
    // A suspect hears of its suspicion with the probe, so it can refute even if the gossip about
    // it was spent while it was unreachable.
    const suspicion = target.state === 'suspect' ? [encode({ type: 'suspect', incarnation: target.incarnation, node: target.name, from: this.name })] : [];
    this.sendMessages(target.address, [ping, ...suspicion]);

    const timeoutMs = this.settings.probeTimeoutMs * this.healthMultiplier;
    this.timers.after(timeoutMs, () => {
      if (acked) return;
      const helpers = this.randomMembers(this.settings.indirectChecks, (r) => r !== target && r.state === 'alive');
      expectedNacks = helpers.length;
      const request = encode({ type: 'indirect-ping', seq, target: target.name, targetAddress: target.address, wantNack: true });
      for (const helper of helpers) this.sendMessages(helper.address, [request]);
      // Over a stream as well, as memberlist does: lost or blocked UDP alone is no reason to suspect.
      this.streamProbe(target, seq, periodMs - timeoutMs, () => void (acked = true));
    });

    this.timers.after(periodMs, () => {
      this.ackHandlers.delete(seq);
      if (acked) return this.adjustAwareness(-1);
      // Missing nacks mean our own links are the problem, not only the target's (Lifeguard).
      this.adjustAwareness(expectedNacks > 0 ? expectedNacks - nacks : 1);
      const current = this.nodes.get(target.name);
      if (current && !down(current.state)) this.suspectNode({ type: 'suspect', incarnation: current.incarnation, node: current.name, from: this.name });
    });
  }

  /** Pings `target` over a stream; `onAck` runs if its ack comes back within `withinMs`. */
  private streamProbe(target: NodeRecord, seq: number, withinMs: number, onAck: () => void): void {
    const ping = this.seal(encode({ type: 'ping', seq, target: target.name }));
    this.transport.exchange(target.address, ping, withinMs).then(
      (answer) => {
        const message = this.open(answer, Infinity);
        if (!this.stopped && message?.type === 'ack' && message.seq === seq) onAck();
      },
      () => {
        // Refused or timed out: the indirect probes decide.
      },
    );
  }

  private adjustAwareness(delta: number): void {
    this.awareness = Math.min(this.settings.awarenessMaxMultiplier - 1, Math.max(0, this.awareness + delta));
  }

  /**
   * Up to `count` distinct members other than this one that `accept` takes, uniformly at random:
   * random draws cost O(count) every gossip round however large the cluster; when draws keep
   * missing (few members, or few accepted), one pass over all of them decides.
   */
  private randomMembers(count: number, accept: (record: NodeRecord) => boolean): NodeRecord[] {
    const others = this.others;
    const picked = new Set<NodeRecord>();
    for (let draw = 0; draw < 4 * count && picked.size < count && others.length > 0; draw++) {
      const record = others[Math.floor(this.random() * others.length)]!;
      if (accept(record)) picked.add(record);
    }
    if (picked.size === count) return [...picked];
    return shuffle(others.filter(accept), this.random).slice(0, count);
  }

  private setState(record: NodeRecord, state: MemberState): void {
    if (down(record.state) !== down(state)) this.live += down(state) ? -1 : 1;
    record.state = state;
    record.stateChangedAt = this.clock.now();
  }

  // --- gossip --------------------------------------------------------------------------------

  private queueBroadcast(key: string, payload: Buffer, onDone?: () => void): void {
    this.broadcasts.queue(key, payload, onDone);
    // Changes go out at once rather than waiting for the next gossip round.
    if (!this.gossipSoon && this.started) {
      this.gossipSoon = true;
      this.timers.after(0, () => {
        this.gossipSoon = false;
        this.gossip();
      });
    }
  }

  private gossip(): void {
    if (this.broadcasts.length === 0) return;
    for (const peer of this.randomMembers(this.settings.gossipNodes, (r) => !down(r.state))) {
      if (this.broadcasts.length === 0) break;
      this.sendMessages(peer.address, []);
    }
  }

  /** Sends `messages` with as many queued broadcasts as fit, as one (encrypted) packet. */
  private sendMessages(to: string, messages: Buffer[]): void {
    const overhead = (this.keyring ? ENCRYPTION_OVERHEAD : 0) + COMPOUND_HEADER;
    const used = messages.reduce((sum, m) => sum + m.length + COMPOUND_PART_OVERHEAD, 0);
    const piggyback = this.broadcasts.take(COMPOUND_PART_OVERHEAD, this.transport.maxPacketSize - overhead - used, 255 - messages.length);
    const parts = [...messages, ...piggyback];
    if (parts.length === 0) return;
    const payload = parts.length === 1 ? parts[0]! : encodeCompound(parts);
    try {
      this.transport.sendPacket(to, this.seal(payload));
    } catch {
      // A packet the transport refuses is a lost packet: SWIM tolerates loss.
    }
  }

  private seal(payload: Buffer): Buffer {
    return this.keyring ? encrypt(this.keyring.primaryKey, payload) : payload;
  }

  /** Decrypts and decodes a packet or stream body, counting what is dropped. */
  private open(data: Buffer, maxBytes: number): Message | undefined {
    if (data.length > maxBytes) return void this.drops.count('oversized');
    let plaintext = data;
    if (this.keyring) {
      const opened = decrypt(this.keyring, data);
      if (!opened.ok) return void this.drops.count(opened.reason);
      plaintext = opened.plaintext;
    }
    const decoded = decode(plaintext);
    if (!decoded.ok) return void this.drops.count('malformed');
    return decoded.message;
  }

  private receivePacket(packet: Buffer, from: string): void {
    if (this.stopped) return;
    const message = this.open(packet, this.transport.maxPacketSize);
    if (!message) return;
    if (message.type === 'push-pull') return this.drops.count('malformed');
    const parts = message.type === 'compound' ? message.parts : [message];
    for (const part of parts) this.handle(part, from);
  }

  private handle(message: Message, from: string): void {
    switch (message.type) {
      case 'ping':
        // A ping meant for a member that used to have our address is not ours to answer.
        if (message.target !== this.name) return;
        return this.sendMessages(from, [encode({ type: 'ack', seq: message.seq })]);
      case 'indirect-ping':
        return this.relayProbe(message.seq, message.target, message.targetAddress, message.wantNack, from);
      case 'ack': {
        const handler = this.ackHandlers.get(message.seq);
        this.ackHandlers.delete(message.seq);
        return handler?.onAck();
      }
      case 'nack':
        return this.ackHandlers.get(message.seq)?.onNack();
      case 'alive':
        return this.aliveNode(message);
      case 'suspect':
        return this.suspectNode(message);
      case 'dead':
        return this.deadNode(message);
      case 'user':
        return this.handleUserPacket(message.payload, from);
      default:
        // A nested compound or push-pull cannot arrive here: the codec and receivePacket refuse them.
        return this.drops.count('malformed');
    }
  }

  private relayProbe(seq: number, target: string, targetAddress: string, wantNack: boolean, requester: string): void {
    const relaySeq = this.nextSeq();
    let answered = false;
    this.ackHandlers.set(relaySeq, {
      onAck: () => {
        answered = true;
        this.sendMessages(requester, [encode({ type: 'ack', seq })]);
      },
      onNack: () => {},
    });
    this.sendMessages(targetAddress, [encode({ type: 'ping', seq: relaySeq, target })]);
    // The requester asked a probe timeout into its interval and judges at the interval's end: a
    // nack after a whole probe timeout would arrive too late and count against the requester's health.
    this.timers.after(this.settings.probeTimeoutMs * NACK_TIMEOUT_FRACTION, () => {
      this.ackHandlers.delete(relaySeq);
      if (!answered && wantNack) this.sendMessages(requester, [encode({ type: 'nack', seq })]);
    });
  }

  // --- state machine -------------------------------------------------------------------------

  private emit(type: NodeEventType, record: NodeRecord): void {
    const event = { type, node: snapshot(record) };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop membership; listeners handle their own errors.
      }
    }
  }

  /** Claims our liveness above `incarnation` after others suspected us or declared us dead. */
  private refute(incarnation: number): void {
    // Incarnations are 32-bit on the wire: a claim at the top cannot be outbid (only forged).
    if (incarnation >= 0xffffffff) return;
    this.self.incarnation = Math.max(this.self.incarnation, incarnation) + 1;
    this.adjustAwareness(1);
    this.queueBroadcast(this.name, this.aliveMessage(this.self));
  }

  private aliveMessage(record: NodeRecord): Buffer {
    return encode({ type: 'alive', incarnation: record.incarnation, node: record.name, address: record.address, meta: record.meta });
  }

  private aliveNode(alive: Extract<Message, { type: 'alive' }>): void {
    if (alive.node === this.name) {
      if (this.leaving || alive.incarnation < this.self.incarnation) return;
      if (alive.incarnation === this.self.incarnation && alive.address === this.self.address && alive.meta.equals(this.self.meta)) return;
      // Someone claims our name with newer or different data: reassert ourselves.
      return this.refute(alive.incarnation);
    }
    const known = this.nodes.get(alive.node);
    if (!known) {
      const record: NodeRecord = { name: alive.node, address: alive.address, meta: alive.meta, incarnation: alive.incarnation, state: 'alive', stateChangedAt: this.clock.now() };
      this.nodes.set(record.name, record);
      this.others.push(record);
      this.live++;
      // A random slot keeps a new member from being probed by everyone at once; the member there
      // moves to the end (as memberlist does), which costs O(1) rather than a splice's O(n).
      const order = this.probeOrder;
      const slot = Math.floor(this.random() * (order.length + 1));
      order.push(record.name);
      [order[slot], order[order.length - 1]] = [order[order.length - 1]!, order[slot]!];
      this.queueBroadcast(record.name, this.aliveMessage(record));
      return this.emit('join', record);
    }
    if (alive.incarnation <= known.incarnation) return;
    this.suspicions.get(known.name)?.cancel();
    this.suspicions.delete(known.name);
    const wasDown = down(known.state);
    const changed = known.address !== alive.address || !known.meta.equals(alive.meta);
    known.incarnation = alive.incarnation;
    known.address = alive.address;
    known.meta = alive.meta;
    if (known.state !== 'alive') this.setState(known, 'alive');
    if (wasDown && !this.probeOrder.includes(known.name)) this.probeOrder.push(known.name);
    this.queueBroadcast(known.name, this.aliveMessage(known));
    if (wasDown) this.emit('join', known);
    else if (changed) this.emit('update', known);
  }

  private suspectNode(suspect: Extract<Message, { type: 'suspect' }>): void {
    const known = this.nodes.get(suspect.node);
    if (!known || suspect.incarnation < known.incarnation) return;
    const existing = this.suspicions.get(suspect.node);
    if (existing) {
      // Pass on independent confirmations so others shorten their timers too.
      if (existing.confirm(suspect.from)) this.queueBroadcast(suspect.node, encode(suspect));
      return;
    }
    if (known.state !== 'alive') return;
    if (known === this.self) return this.refute(suspect.incarnation);

    known.incarnation = suspect.incarnation;
    this.setState(known, 'suspect');
    this.suspectsSeen++;
    const changedAt = known.stateChangedAt;
    this.queueBroadcast(suspect.node, encode(suspect));

    const n = this.liveCount();
    const k = n - 2 < this.settings.suspicionMultiplier - 2 ? 0 : this.settings.suspicionMultiplier - 2;
    const minMs = baseSuspicionTimeoutMs(this.settings.suspicionMultiplier, n, this.settings.probeIntervalMs);
    const maxMs = this.settings.suspicionMaxTimeoutMultiplier * minMs;
    const timeout = (): void => {
      this.suspicions.delete(suspect.node);
      const current = this.nodes.get(suspect.node);
      if (this.stopped || current !== known || known.state !== 'suspect' || known.stateChangedAt !== changedAt) return;
      this.deadNode({ type: 'dead', incarnation: known.incarnation, node: known.name, from: this.name });
    };
    this.suspicions.set(suspect.node, new Suspicion(this.clock, suspect.from, k, minMs, maxMs, timeout));
  }

  private deadNode(dead: Extract<Message, { type: 'dead' }>): void {
    const known = this.nodes.get(dead.node);
    if (!known || dead.incarnation < known.incarnation) return;
    this.suspicions.get(dead.node)?.cancel();
    this.suspicions.delete(dead.node);
    if (down(known.state)) return;
    if (known === this.self) return this.refute(dead.incarnation);
    known.incarnation = dead.incarnation;
    this.setState(known, dead.from === dead.node ? 'left' : 'dead');
    this.queueBroadcast(dead.node, encode(dead));
    this.emit('leave', known);
  }

  // --- push-pull -----------------------------------------------------------------------------

  private localState(): Buffer {
    const nodes: PushNodeState[] = [...this.nodes.values()].map((r) => ({ name: r.name, address: r.address, meta: r.meta, incarnation: r.incarnation, state: r.state }));
    return this.seal(encode({ type: 'push-pull', nodes }));
  }

  private async pushPull(address: string): Promise<void> {
    const answer = await this.transport.exchange(address, this.localState(), this.settings.streamTimeoutMs);
    const message = this.open(answer, Infinity);
    if (!message || message.type !== 'push-pull') throw new Error(`${address} answered push-pull with an unreadable state (wrong key?)`);
    this.mergeRemoteState(message.nodes);
  }

  /**
   * Anti-entropy with one live member, plus a reconnect attempt to one member we declared dead and
   * to one seed no live member holds: after a partition heals, either side's push-pull makes the
   * other refute (a remote death becomes a local suspicion), or reintroduces forgotten members.
   */
  private async antiEntropy(): Promise<void> {
    if (this.leaving) return;
    const liveAddresses = new Set([...this.nodes.values()].filter((r) => !down(r.state)).map((r) => r.address));
    const [peer] = this.randomMembers(1, (r) => r.state === 'alive');
    const [lost] = this.randomMembers(1, (r) => r.state === 'dead');
    const [seed] = shuffle([...this.seeds].filter((address) => !liveAddresses.has(address)), this.random);
    const targets = new Set([peer?.address, lost?.address, seed].filter((address): address is string => address !== undefined));
    await Promise.all(
      [...targets].map((address) =>
        this.pushPull(address).catch(() => {
          // Periodic: a failed round is retried with other members later.
        }),
      ),
    );
  }

  private answerUserRequest(payload: Buffer, from: string): Buffer | undefined {
    const answer = this.userRequestHandler?.(payload, from);
    return answer && this.seal(encode({ type: 'user', payload: answer }));
  }

  private answerStream(request: Buffer, from: string): Buffer | undefined {
    if (this.stopped) return undefined;
    const message = this.open(request, Infinity);
    if (!message) return undefined;
    if (message.type === 'user') return this.answerUserRequest(message.payload, from);
    if (message.type === 'ping') return message.target === this.name ? this.seal(encode({ type: 'ack', seq: message.seq })) : undefined;
    if (message.type !== 'push-pull') return void this.drops.count('malformed');
    // Answer with our view before merging, as the requester merges it the same way.
    const answer = this.localState();
    this.mergeRemoteState(message.nodes);
    return answer;
  }

  private mergeRemoteState(nodes: PushNodeState[]): void {
    for (const node of nodes) {
      switch (node.state) {
        case 'alive':
          this.aliveNode({ type: 'alive', incarnation: node.incarnation, node: node.name, address: node.address, meta: node.meta });
          break;
        case 'left':
          this.deadNode({ type: 'dead', incarnation: node.incarnation, node: node.name, from: node.name });
          break;
        default:
          // Another member's verdict of death is only a suspicion here: we check for ourselves.
          this.suspectNode({ type: 'suspect', incarnation: node.incarnation, node: node.name, from: this.name });
      }
    }
  }
}
