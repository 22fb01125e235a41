// The entries of the networks this member is on: per (network, table, key) the event with the
// newest Lamport time wins (ties broken by owner name, so every member picks the same);
// a deleted entry stays as a tombstone until reaped, so an older create cannot revive it.
import type { EntryEvent } from './table-codec';

export interface StoredEntry extends EntryEvent {
  changedAt: number;
}

/** True if `a` supersedes `b`. */
export function newer(a: EntryEvent, b: EntryEvent): boolean {
  return a.ltime !== b.ltime ? a.ltime > b.ltime : a.owner > b.owner;
}

export class EntryStore {
  /** network → table → key → entry. */
  private readonly networks = new Map<string, Map<string, Map<string, StoredEntry>>>();

  get(network: string, table: string, key: string): StoredEntry | undefined {
    return this.networks.get(network)?.get(table)?.get(key);
  }

  /** Stores `event` if it supersedes what is held; returns what it replaced (null if nothing), or undefined if it was not newer. */
  apply(event: EntryEvent, now: number): StoredEntry | null | undefined {
    const known = this.get(event.network, event.table, event.key);
    if (known && !newer(event, known)) return undefined;
    let tables = this.networks.get(event.network);
    if (!tables) this.networks.set(event.network, (tables = new Map()));
    let keys = tables.get(event.table);
    if (!keys) tables.set(event.table, (keys = new Map()));
    keys.set(event.key, { ...event, value: Buffer.from(event.value), changedAt: now });
    return known ?? null;
  }

  /** The live entries of one table. */
  live(network: string, table: string): StoredEntry[] {
    return [...(this.networks.get(network)?.get(table)?.values() ?? [])].filter((e) => !e.deleted);
  }

  /** Every entry of a network, tombstones too, as a bulk sync carries them. */
  entriesOf(network: string): EntryEvent[] {
    return [...this.entries(network)].map(({ changedAt: _, ...event }) => event);
  }

  /** Forgets a network's entries; returns the live ones. */
  dropNetwork(network: string): StoredEntry[] {
    const dropped = [...this.entries(network)].filter((e) => !e.deleted);
    this.networks.delete(network);
    return dropped;
  }

  /** Forgets the entries `owner` holds in `network`; returns the live ones. */
  dropOwner(network: string, owner: string): StoredEntry[] {
    const dropped: StoredEntry[] = [];
    for (const keys of this.networks.get(network)?.values() ?? []) {
      for (const [key, entry] of keys) {
        if (entry.owner !== owner) continue;
        keys.delete(key);
        if (!entry.deleted) dropped.push(entry);
      }
    }
    return dropped;
  }

  reap(now: number, afterMs: number): void {
    for (const tables of this.networks.values()) {
      for (const keys of tables.values()) for (const [key, entry] of keys) if (entry.deleted && now - entry.changedAt >= afterMs) keys.delete(key);
    }
  }

  private *entries(network: string): Iterable<StoredEntry> {
    for (const keys of this.networks.get(network)?.values() ?? []) yield* keys.values();
  }
}
