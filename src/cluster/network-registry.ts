// Which node is on which network, as gossiped network events tell it: per (node, network) the
// newest event wins; a leave stays as a tombstone until reaped, so an older join cannot revive it.
import type { NetworkEvent } from './table-codec';

interface NetworkRecord extends NetworkEvent {
  changedAt: number;
}

export class NetworkRegistry {
  /** network → node → its newest event. */
  private readonly records = new Map<string, Map<string, NetworkRecord>>();
  /** network → how many nodes are on it (not leaving): asked for every gossip packet. */
  private readonly counts = new Map<string, number>();
  /** network → the name string its records share (each decoded event brings a copy of its own). */
  private readonly names = new Map<string, string>();

  get(node: string, network: string): NetworkEvent | undefined {
    return this.records.get(network)?.get(node);
  }

  /** Stores `event` if it is newer than what is known; true if it was. */
  apply(event: NetworkEvent, now: number): boolean {
    const known = this.get(event.node, event.network);
    if (known && known.ltime >= event.ltime) return false;
    let nodes = this.records.get(event.network);
    if (!nodes) {
      this.records.set(event.network, (nodes = new Map()));
      this.names.set(event.network, event.network);
    }
    // A literal, not a spread of the decoded event: spread copies each took a hidden class of
    // their own (~200 bytes a record); and the strings already held, not the event's copies.
    const node = known?.node ?? event.node;
    nodes.set(node, { node, network: this.names.get(event.network)!, ltime: event.ltime, leaving: event.leaving, changedAt: now });
    this.count(event.network, (event.leaving ? 0 : 1) - (known && !known.leaving ? 1 : 0));
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
    return this.counts.get(network) ?? 0;
  }

  /** Nodes on `network`, by name. */
  nodesOf(network: string): string[] {
    return [...(this.records.get(network)?.values() ?? [])].filter((r) => !r.leaving).map((r) => r.node);
  }

  /** Every record, tombstones too, as a networks-sync carries them. */
  all(): NetworkEvent[] {
    return [...this.records.values()].flatMap((nodes) => [...nodes.values()].map(({ node, network, ltime, leaving }) => ({ node, network, ltime, leaving })));
  }

  /** A dead or departed node is on no network any more. */
  forgetNode(node: string): void {
    for (const [network, nodes] of this.records) {
      const record = nodes.get(node);
      if (record && !record.leaving) this.count(network, -1);
      nodes.delete(node);
      if (nodes.size === 0) this.forgetNetwork(network);
    }
  }

  reap(now: number, afterMs: number): void {
    for (const [network, nodes] of this.records) {
      for (const [node, record] of nodes) if (record.leaving && now - record.changedAt >= afterMs) nodes.delete(node);
      if (nodes.size === 0) this.forgetNetwork(network);
    }
  }

  private forgetNetwork(network: string): void {
    this.records.delete(network);
    this.names.delete(network);
  }

  private count(network: string, delta: number): void {
    const count = (this.counts.get(network) ?? 0) + delta;
    if (count === 0) this.counts.delete(network);
    else this.counts.set(network, count);
  }
}
