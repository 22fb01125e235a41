// Entries joins publish in the cluster's network-scoped tables, and which driver hears about
// which table. A host without a cluster publishes nowhere and hears nothing.
import type { Driver, TableEntry, TableEvent } from '../drivers/driver';

/** Where entries go: the cluster's gossip, when there is one. */
export interface TablePublisher {
  publish(networkId: string, entries: readonly TableEntry[]): Promise<void>;
  withdraw(networkId: string, entries: readonly TableEntry[]): Promise<void>;
  /** The hosts taking part in a network's tables (this one too, once it published there): inspect's Peers. */
  peers?(networkId: string): NetworkPeer[];
}

export interface NetworkPeer {
  /** The host's node name. */
  name: string;
  /** Its address in the cluster (the advertise address). */
  address: string;
}

/** An entry as an endpoint's record keeps it (the value in base64), to withdraw it after a restart too. */
export interface StoredTableEntry {
  table: string;
  key: string;
  value: string;
}

export const storedEntries = (entries: readonly TableEntry[]): StoredTableEntry[] => entries.map(({ table, key, value }) => ({ table, key, value: value.toString('base64') }));
export const tableEntries = (stored: readonly StoredTableEntry[]): TableEntry[] => stored.map(({ table, key, value }) => ({ table, key, value: Buffer.from(value, 'base64') }));

/** The tables each network's driver registered (NetworkContext.registerTable). */
export class TableRegistrations {
  private readonly byNetwork = new Map<string, Map<string, Driver>>();

  register(networkId: string, table: string, driver: Driver): void {
    let tables = this.byNetwork.get(networkId);
    if (!tables) this.byNetwork.set(networkId, (tables = new Map()));
    tables.set(table, driver);
  }

  forget(networkId: string): void {
    this.byNetwork.delete(networkId);
  }

  /** The driver that registered a network's table, if one did. */
  driverOf(networkId: string, table: string): Driver | undefined {
    return this.byNetwork.get(networkId)?.get(table);
  }

  /** Hands an event to the driver that registered its table; an event of no registered table is dropped. */
  async notify(event: TableEvent): Promise<boolean> {
    const driver = this.driverOf(event.networkId, event.table);
    if (!driver?.eventNotify) return false;
    await driver.eventNotify(event);
    return true;
  }
}
