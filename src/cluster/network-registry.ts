// Which node is on which network, as gossiped network events tell it: per (node, network) the
// newest event wins; a leave stays as a tombstone until reaped, so an older join cannot revive it.
import type { NetworkEvent } from './table-codec';

interface NetworkRecord extends NetworkEvent {
  changedAt: number;
}

interface NetworkNodes {
  /** The network's name, which its records share (each decoded event brings a copy of its own). */
  name: string;
  /** node → its newest event. */
  nodes: Map<string, NetworkRecord>;
  /** Nodes on it, not leaving: asked for every gossip packet. */
  count: number;
}

export class NetworkRegistry {
  private readonly networks = new Map<string, NetworkNodes>();

  get(node: string, network: string): NetworkEvent | undefined {
    return this.networks.get(network)?.nodes.get(node);
  }

  /** Stores `event` if it is newer than what is known; true if it was. */
  apply(event: NetworkEvent, now: number): boolean {
    let entry = this.networks.get(event.network);
    const known = entry?.nodes.get(event.node);
    if (known && known.ltime >= event.ltime) return false;
    if (!entry) this.networks.set(event.network, (entry = { name: event.network, nodes: new Map(), count: 0 }));
    // One literal shape for every record (one hidden class, where spreads of decoded events each
    // made one of their own), holding strings already held so that the event's copies can go.
    const node = known?.node ?? event.node;
    entry.nodes.set(node, { node, network: entry.name, ltime: event.ltime, leaving: event.leaving, changedAt: now });
    entry.count += (event.leaving ? 0 : 1) - (known && !known.leaving ? 1 : 0);
    return true;
  }

  isOn(node: string, network: string): boolean {
    const record = this.get(node, network);
    return record !== undefined && !record.leaving;
  }

  /** Whether the newest word of `node` on `network` is that it left (a tombstone not yet reaped). */
  hasLeft(node: string, network: string): boolean {
    return this.get(node, network)?.leaving === true;
  }

  countOn(network: string): number {
    return this.networks.get(network)?.count ?? 0;
  }

  /** Nodes on `network`, by name. */
  nodesOf(network: string): string[] {
    return [...(this.networks.get(network)?.nodes.values() ?? [])].filter((r) => !r.leaving).map((r) => r.node);
  }

  /** Every record, tombstones too, as a networks-sync carries them. */
  all(): NetworkEvent[] {
    return [...this.networks.values()].flatMap(({ nodes }) => [...nodes.values()].map(({ node, network, ltime, leaving }) => ({ node, network, ltime, leaving })));
  }

  /** A dead or departed node is on no network any more. */
  forgetNode(node: string): void {
    for (const [network, entry] of this.networks) {
      const record = entry.nodes.get(node);
      if (record && !record.leaving) entry.count--;
      entry.nodes.delete(node);
      if (entry.nodes.size === 0) this.networks.delete(network);
    }
  }

  reap(now: number, afterMs: number): void {
    for (const [network, entry] of this.networks) {
      for (const [node, record] of entry.nodes) if (record.leaving && now - record.changedAt >= afterMs) entry.nodes.delete(node);
      if (entry.nodes.size === 0) this.networks.delete(network);
    }
  }
}
