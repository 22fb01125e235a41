// Which node is on which network, as gossiped network events tell it: per (node, network) the
// newest event wins; a leave stays as a tombstone until reaped, so an older join cannot revive it.
import type { NetworkEvent } from './table-codec';

interface NetworkNodes {
  /** The network's name, which the events made from it share (each decoded event brings a copy of its own). */
  name: string;
  /**
   * node → its newest event, as one number: Lamport time × 2, + 1 when it is a leave. Every
   * member holds an entry for every other on each network it shares: a number each, not an object.
   */
  nodes: Map<string, number>;
  /** When each tombstone (a leave) arrived, for reaping. */
  leftAt: Map<string, number>;
  /** Nodes on it, not leaving: asked for every gossip packet. */
  count: number;
}

const pack = (ltime: number, leaving: boolean): number => ltime * 2 + (leaving ? 1 : 0);
const ltimeOf = (packed: number): number => Math.floor(packed / 2);
const isLeave = (packed: number): boolean => packed % 2 === 1;

export class NetworkRegistry {
  private readonly networks = new Map<string, NetworkNodes>();

  /** `heldName` gives the string its caller already holds for a node name (membership's), to key by. */
  constructor(private readonly heldName: (node: string) => string = (node) => node) {}

  get(node: string, network: string): NetworkEvent | undefined {
    const entry = this.networks.get(network);
    const packed = entry?.nodes.get(node);
    return packed === undefined ? undefined : { node, network: entry!.name, ltime: ltimeOf(packed), leaving: isLeave(packed) };
  }

  private packedOf(node: string, network: string): number | undefined {
    return this.networks.get(network)?.nodes.get(node);
  }

  /** Stores `event` if it is newer than what is known; true if it was. */
  apply(event: NetworkEvent, now: number): boolean {
    let entry = this.networks.get(event.network);
    const known = entry?.nodes.get(event.node);
    if (known !== undefined && ltimeOf(known) >= event.ltime) return false;
    if (!entry) this.networks.set(event.network, (entry = { name: event.network, nodes: new Map(), leftAt: new Map(), count: 0 }));
    // A new key is the string held already; an existing key stays as it is.
    entry.nodes.set(known === undefined ? this.heldName(event.node) : event.node, pack(event.ltime, event.leaving));
    if (event.leaving) entry.leftAt.set(event.node, now);
    else entry.leftAt.delete(event.node);
    entry.count += (event.leaving ? 0 : 1) - (known !== undefined && !isLeave(known) ? 1 : 0);
    return true;
  }

  isOn(node: string, network: string): boolean {
    const packed = this.packedOf(node, network);
    return packed !== undefined && !isLeave(packed);
  }

  /** Whether the newest word of `node` on `network` is that it left (a tombstone not yet reaped). */
  hasLeft(node: string, network: string): boolean {
    const packed = this.packedOf(node, network);
    return packed !== undefined && isLeave(packed);
  }

  countOn(network: string): number {
    return this.networks.get(network)?.count ?? 0;
  }

  /** Nodes on `network`, by name. */
  nodesOf(network: string): string[] {
    const nodes: string[] = [];
    for (const [node, packed] of this.networks.get(network)?.nodes ?? []) if (!isLeave(packed)) nodes.push(node);
    return nodes;
  }

  /** Every record, tombstones too, as a networks-sync carries them. */
  all(): NetworkEvent[] {
    const events: NetworkEvent[] = [];
    for (const { name, nodes } of this.networks.values()) for (const [node, packed] of nodes) events.push({ node, network: name, ltime: ltimeOf(packed), leaving: isLeave(packed) });
    return events;
  }

  /** A dead or departed node is on no network any more. */
  forgetNode(node: string): void {
    for (const [network, entry] of this.networks) {
      const packed = entry.nodes.get(node);
      if (packed !== undefined && !isLeave(packed)) entry.count--;
      entry.nodes.delete(node);
      entry.leftAt.delete(node);
      if (entry.nodes.size === 0) this.networks.delete(network);
    }
  }

  reap(now: number, afterMs: number): void {
    for (const [network, entry] of this.networks) {
      for (const [node, at] of entry.leftAt) {
        if (now - at < afterMs) continue;
        entry.nodes.delete(node);
        entry.leftAt.delete(node);
      }
      if (entry.nodes.size === 0) this.networks.delete(network);
    }
  }
}
