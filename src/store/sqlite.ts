// The local store: one SQLite file in WAL mode, written by one daemon. A version is the
// store-wide revision of the write that made it, so versions only grow, even across a delete
// and re-create of the same key, and a stale compare-and-swap can never succeed by accident.
// The revision lives in memory; on open it is the larger of the highest version in the table
// and the value saved by the last delete (a delete may remove the row holding the highest).
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { CasConflictError, StoreUnavailableError } from './errors';
import type { Entry, Op, Store, Watch, WatchEvent } from './types';

export interface LocalStoreOptions {
  /**
   * 'process' (default): a write survives the daemon being killed at any moment (WAL,
   * synchronous=NORMAL: ~20 µs). 'power': it also survives power loss (synchronous=FULL:
   * an fsync per write, ~260 µs here). After a power loss every namespace and container is
   * gone anyway and the daemon reconciles on start, so 'process' is the right default.
   */
  durability?: 'process' | 'power';
}

interface Row {
  key: string;
  value: Buffer;
  version: number;
}

/** The highest code point: no UTF-8 key that starts with a prefix sorts after prefix + this. */
const AFTER_PREFIX = '\u{10FFFF}';

export class LocalStore implements Store {
  readonly scope = 'local' as const;
  private readonly db: Database.Database;
  private readonly events = new EventEmitter();
  private readonly statements;
  private revision: number;

  constructor(file: string, options: LocalStoreOptions = {}) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
        INSERT OR IGNORE INTO revision (id, value) VALUES (1, 0);
      `);
    } catch (error) {
      throw new StoreUnavailableError(`cannot open the local store ${file}: ${(error as Error).message}; check the path and its permissions`, error);
    }
    this.events.setMaxListeners(0);
    this.statements = {
      get: this.db.prepare<[string], Row>('SELECT key, value, version FROM kv WHERE key = ?'),
      version: this.db.prepare<[string], { version: number }>('SELECT version FROM kv WHERE key = ?'),
      upsert: this.db.prepare<[string, Buffer, number]>('INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version'),
      insertNew: this.db.prepare<[string, Buffer, number]>('INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      remove: this.db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      list: this.db.prepare<[string, string], Row>('SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      saveRevision: this.db.prepare<[number]>('UPDATE revision SET value = ? WHERE id = 1'),
    };
    const saved = this.db.prepare<[], { value: number }>('SELECT value FROM revision WHERE id = 1').get()!.value;
    const highest = this.db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM kv').get()!.v ?? 0;
    this.revision = Math.max(saved, highest);
  }

  async get(key: string): Promise<Entry | undefined> {
    return this.statements.get.get(key);
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    if (expectVersion !== undefined && expectVersion !== 0) return (await this.commit([{ type: 'put', key, value, expectVersion }]))[0]!;
    // One autocommitted statement: the hot path of IPAM (create-only) and of plain writes.
    const version = this.revision + 1;
    const changes = expectVersion === 0 ? this.statements.insertNew.run(key, value, version).changes : this.statements.upsert.run(key, value, version).changes;
    if (changes === 0) throw new CasConflictError(key, 0, this.statements.version.get(key)?.version ?? 0);
    this.revision = version;
    this.events.emit('change', { type: 'put', entry: { key, value, version } } satisfies WatchEvent);
    return version;
  }

  async delete(key: string, expectVersion?: number): Promise<void> {
    await this.commit([{ type: 'delete', key, expectVersion }]);
  }

  async list(prefix: string): Promise<Entry[]> {
    return this.statements.list.all(prefix, prefix + AFTER_PREFIX);
  }

  async commit(ops: Op[]): Promise<number[]> {
    const events: WatchEvent[] = [];
    const apply = this.db.transaction((): number[] => {
      for (const op of ops) {
        if (op.expectVersion === undefined) continue;
        const actual = this.statements.version.get(op.key)?.version ?? 0;
        if (actual !== op.expectVersion) throw new CasConflictError(op.key, op.expectVersion, actual);
      }
      const revision = this.revision + 1;
      if (ops.some((op) => op.type === 'delete')) this.statements.saveRevision.run(revision);
      return ops.map((op) => {
        if (op.type === 'put') {
          this.statements.upsert.run(op.key, op.value, revision);
          events.push({ type: 'put', entry: { key: op.key, value: op.value, version: revision } });
          return revision;
        }
        if (this.statements.remove.run(op.key).changes > 0) events.push({ type: 'delete', key: op.key });
        return 0;
      });
    });
    const versions = apply.immediate();
    this.revision += 1;
    // Watchers hear of a change only once it is committed.
    for (const event of events) this.events.emit('change', event);
    return versions;
  }

  async watch(prefix: string, onEvent: (event: WatchEvent) => void): Promise<Watch> {
    const listener = (event: WatchEvent): void => {
      const key = event.type === 'put' ? event.entry.key : event.key;
      if (key.startsWith(prefix)) onEvent(event);
    };
    this.events.on('change', listener);
    return {
      close: async () => {
        this.events.off('change', listener);
      },
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
    this.events.removeAllListeners();
  }
}
