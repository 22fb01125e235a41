// A simulated cluster for membership tests: members on an in-memory network driven by a virtual
// clock, seeded so a failing run replays exactly.
import { seededRandom } from '../../src/cluster/random';
import type { Keyring } from '../../src/cluster/keyring';
import { MemoryNetwork } from '../../src/cluster/memory-transport';
import { Membership, type MembershipOptions, type NodeEvent } from '../../src/cluster/membership';
import { VirtualClock } from '../../src/cluster/virtual-clock';
import type { MemberState } from '../../src/cluster/codec';

export interface SimulatedMember {
  member: Membership;
  address: string;
  events: NodeEvent[];
  running: boolean;
}

export class Simulation {
  readonly clock = new VirtualClock();
  readonly network: MemoryNetwork;
  readonly nodes: SimulatedMember[] = [];
  private readonly seed: number;
  /** Members ever added: a restarted member draws other random numbers than its predecessor. */
  private added = 0;

  constructor(seed = 1) {
    this.seed = seed;
    this.network = new MemoryNetwork(this.clock, seed);
  }

  /** Adds and starts a member named node-<index> at 10.0.0.<index + 1>:7946. */
  add(options: Partial<MembershipOptions> & { keyring?: Keyring } = {}, index = this.nodes.length): SimulatedMember {
    const address = `10.0.0.${index + 1}:7946`;
    const member = new Membership({
      name: `node-${index}`,
      transport: this.network.createTransport(address),
      clock: this.clock,
      random: seededRandom(this.seed * 1000 + this.added++),
      ...options,
    });
    const node: SimulatedMember = { member, address, events: [], running: true };
    member.onEvent((event) => node.events.push(event));
    member.start();
    this.nodes[index] = node;
    return node;
  }

  /** Waits on virtual time for a promise that needs timers to settle. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => void (done = true));
    tracked.catch(() => {});
    await this.clock.runUntil(() => done, maxMs, 10);
    return tracked;
  }

  /** Starts `count` members and joins each through node-0. */
  async start(count: number, options: Partial<MembershipOptions> = {}): Promise<void> {
    for (let i = 0; i < count; i++) this.add(options);
    for (const node of this.nodes.slice(1)) await this.settle(node.member.join([this.nodes[0]!.address]));
  }

  running(): SimulatedMember[] {
    return this.nodes.filter((n) => n.running);
  }

  /** The state `observer` holds for `name`, or undefined if it does not know it. */
  stateOf(observer: SimulatedMember, name: string): MemberState | undefined {
    return observer.member.member(name)?.state;
  }

  /** Every running member sees every running member alive. */
  converged(): boolean {
    const running = this.running();
    return running.every((observer) => running.every((other) => this.stateOf(observer, other.member.name) === 'alive'));
  }

  /** Every running member other than `name`'s own sees `name` in `state`. */
  allSee(name: string, state: MemberState): boolean {
    return this.running().filter((n) => n.member.name !== name).every((observer) => this.stateOf(observer, name) === state);
  }

  /** Stops a member without a leave, as a crash or power loss does. */
  async kill(node: SimulatedMember): Promise<void> {
    node.running = false;
    await node.member.shutdown();
  }

  /**
   * Advances until `condition` holds, calling `watch` after every step (to record states seen on
   * the way); returns the virtual ms it took, or undefined if `maxMs` passed first.
   */
  async runUntil(condition: () => boolean, maxMs: number, watch: () => void = () => {}): Promise<number | undefined> {
    const start = this.clock.now();
    const held = await this.clock.runUntil(() => {
      watch();
      return condition();
    }, maxMs);
    return held ? this.clock.now() - start : undefined;
  }

  async shutdown(): Promise<void> {
    for (const node of this.running()) await this.kill(node);
  }
}
