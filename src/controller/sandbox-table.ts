// The sandboxes of a controller: their records in the store, the namespaces netctl makes for
// them or adopts from an engine (external keys), and the open handles kept on them.
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox } from '../sandbox';
import type { Store } from '../store/types';
import { crashPoint } from '../util/crash-point';
import type { Logger } from '../util/logger';
import type { SandboxRecord } from './endpoint-record';
import { ConflictError, NotFoundError } from './errors';
import { adoptionError, type ExternalKey, type HeldKey, holdExternalKey, stillNames } from './external-key';

const SANDBOX_PREFIX = 'sandboxes/';

/** What a new sandbox's record keeps besides its namespace. */
export type SandboxFields = Pick<SandboxRecord, 'containerId' | 'owner' | 'dns'>;

export class SandboxTable {
  private readonly records = new Map<string, SandboxRecord>();
  /** Sandboxes worked on since the start, each keeping its netlink socket. */
  private readonly opened = new Map<string, Sandbox>();
  /** External keys given as descriptors, held while their sandbox lives in this controller. */
  private readonly heldKeys = new Map<string, HeldKey>();
  /** Namespaces (by inode) being adopted: a concurrent request for the same is refused before its first await. */
  private readonly adopting = new Set<number>();

  constructor(private readonly deps: { store: Store; log: Logger; sandboxDir: string }) {}

  /**
   * Reads the records, removes namespaces of no sandbox (a crash between making one and recording
   * it) and sets aside sandboxes whose namespace is gone (a reboot, an external key's process that
   * ended): their IDs are returned, their records stay until dropRecord.
   */
  async load(): Promise<string[]> {
    for (const entry of await this.deps.store.list(SANDBOX_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as SandboxRecord;
      this.records.set(record.id, record);
    }
    this.removeOrphanNamespaces();
    const gone: string[] = [];
    for (const sandbox of [...this.records.values()]) {
      if (sandbox.external ? stillNames(sandbox.key, sandbox.namespaceInode) : Sandbox.open(sandbox.key).exists()) continue;
      this.deps.log.warn({ sandbox: sandbox.id, key: sandbox.key }, 'sandbox namespace gone: dropping the sandbox and its endpoints');
      this.records.delete(sandbox.id);
      gone.push(sandbox.id);
    }
    return gone;
  }

  private removeOrphanNamespaces(): void {
    const owned = new Set([...this.records.values()].map((s) => s.key));
    let names: string[];
    try {
      names = fs.readdirSync(this.deps.sandboxDir);
    } catch {
      return; // no sandbox was ever made here
    }
    for (const key of names.map((name) => path.join(this.deps.sandboxDir, name)).filter((key) => !owned.has(key))) {
      this.deps.log.warn({ key }, 'network namespace of no sandbox (left by a crash): removing it');
      try {
        Sandbox.open(key).destroy();
      } catch (error) {
        this.deps.log.error({ err: error, key }, 'could not remove the namespace');
      }
    }
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  ids(): IterableIterator<string> {
    return this.records.keys();
  }

  list(): SandboxRecord[] {
    return [...this.records.values()];
  }

  get(id: string): SandboxRecord {
    const record = this.records.get(id);
    if (!record) throw new NotFoundError(`sandbox ${id} not found`);
    return record;
  }

  keyOf(id: string): string | undefined {
    return this.records.get(id)?.key;
  }

  /** The sandbox to work on, its socket kept for the next time. */
  opening(id: string): Sandbox {
    let sandbox = this.opened.get(id);
    if (!sandbox) this.opened.set(id, (sandbox = Sandbox.open(this.get(id).key)));
    return sandbox;
  }

  /** Lets go of a sandbox's socket; it is opened again when worked on (holding every one would not scale). */
  closeHandle(id: string): void {
    this.opened.get(id)?.close();
    this.opened.delete(id);
  }

  /** A new sandbox: a namespace netctl makes, or the engine's behind `key`; recorded before it is returned. */
  async make(id: string, fields: SandboxFields, key?: ExternalKey): Promise<SandboxRecord> {
    const external = key === undefined ? undefined : await this.adopt(key);
    try {
      const sandbox = external?.sandbox ?? (await Sandbox.create(this.deps.sandboxDir, id.slice(0, 12)));
      crashPoint('sandbox-create:namespace-made');
      this.opened.set(id, sandbox);
      if (external) this.heldKeys.set(id, external.held);
      const record: SandboxRecord = { id, key: sandbox.key, ...(external ? { external: true, namespaceInode: external.held.inode } : {}), ...fields, created: new Date().toISOString() };
      try {
        await this.deps.store.put(SANDBOX_PREFIX + id, Buffer.from(JSON.stringify(record)), 0);
      } catch (error) {
        this.letGo(record);
        throw error;
      }
      this.records.set(id, record);
      return record;
    } finally {
      if (external) this.adopting.delete(external.held.inode);
    }
  }

  /** An external key checked, held and its namespace adopted; one per sandbox. */
  private async adopt(key: ExternalKey): Promise<{ held: HeldKey; sandbox: Sandbox }> {
    const held = holdExternalKey(key, this.deps.sandboxDir);
    const owner = [...this.records.values()].find((s) => stillNames(s.key, held.inode));
    const conflict = owner ? `is sandbox ${owner.id.slice(0, 12)}'s already` : this.adopting.has(held.inode) ? 'is being made a sandbox by another request' : undefined;
    if (conflict) {
      held.release();
      throw new ConflictError(`the network namespace of sandbox key ${String(key)} ${conflict}`);
    }
    this.adopting.add(held.inode);
    try {
      return { held, sandbox: await Sandbox.adopt(held.path).catch((error: unknown) => Promise.reject(adoptionError(key, error))) };
    } catch (error) {
      this.adopting.delete(held.inode);
      held.release();
      throw error;
    }
  }

  /** Removes the namespace netctl made; an external one is only let go of (its owner removes it). */
  letGo(record: SandboxRecord): void {
    if (record.external) {
      this.heldKeys.get(record.id)?.release();
      this.heldKeys.delete(record.id);
    } else {
      this.opening(record.id).destroy();
    }
    this.closeHandle(record.id);
  }

  /** Removes a sandbox's record (after its namespace, or once it was found gone). */
  async dropRecord(id: string): Promise<void> {
    await this.deps.store.delete(SANDBOX_PREFIX + id);
    this.records.delete(id);
  }

  /** Lets go of the sandboxes' netlink sockets and held keys (the sandboxes stay). */
  close(): void {
    for (const sandbox of this.opened.values()) sandbox.close();
    this.opened.clear();
    for (const held of this.heldKeys.values()) held.release();
    this.heldKeys.clear();
  }
}
