// The local store: one SQLite file in WAL mode (or ':memory:'), written by one daemon.
//
// Versions: a version is the store-wide revision of the write that made it. The revision lives
// in the database (table `revision`), kept by triggers in the same statement as every write, so
// versions only grow - across a delete and re-create of the same key, across reopening, and even
// when several connections or processes write the same file - and a stale compare-and-swap can
// never succeed by accident. A later write has a larger version than any earlier one, on any key.
//
// Every method runs synchronously inside better-sqlite3; a write is committed (and as durable as
// `durability` says) before its promise resolves. Single puts and deletes are one autocommitted
// statement; `commit` is one IMMEDIATE transaction, so a multi-key change is all or nothing.
//
// Watch: events come from an in-process emitter shared by every LocalStore of this process on the
// same file, and are emitted only after the write committed. Writes by *other processes* on the
// same file are not reported (one daemon owns a root; reporting them would need a change-log
// table, i.e. a second row write on every write).
import type Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { CasConflictError, StoreUnavailableError } from './errors';
import type { Entry, Op, Store, Watch, WatchEvent } from './types';

export interface LocalStoreOptions {
  /**
   * 'process' (default): WAL with synchronous=NORMAL, ~20 µs a write. A write survives the
   * daemon being killed at any moment (SIGKILL, OOM, crash): it is in the WAL file, in the page
   * cache, when the promise resolves. It may be lost on a power loss or kernel crash.
   * 'power': synchronous=FULL, an fsync per commit (~260 µs here); it also survives power loss.
   * Why 'process' is the default: after a power loss (or kernel crash) every network namespace,
   * veth, bridge and container process of this host is gone anyway, and the daemon reconciles
   * the store with the kernel on start; the store never outlives the world it describes. WAL
   * with NORMAL still never corrupts the database - at worst the last writes before the outage
   * are missing, as if they had never happened.
   */
  durability?: 'process' | 'power';
  /** How long a write waits for another connection's write lock (busy_timeout). Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * The file has one user, this store, for as long as it is open (a daemon owns its root): SQLite
   * then takes its locks once and keeps the WAL index in memory (locking_mode EXCLUSIVE) instead
   * of locking and reading shared memory around every statement, which halves the cost of a
   * write. Anyone else opening the file waits busy_timeout and fails with SQLITE_BUSY.
   */
  exclusive?: boolean;
}

interface Row {
  key: string;
  value: Buffer;
  version: number;
}

/** The smallest string greater than every string starting with `prefix` (undefined: no bound). */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last === 0x10ffff) continue;
    // UTF-8 (SQLite's BINARY collation) orders by code point; skip the surrogate range.
    points.push(String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1));
    return points.join('');
  }
  return undefined;
}

/** What to do about a failure of SQLite, by its code. */
function adviceFor(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  // A daemon keeps its store locked for as long as it runs (exclusive mode).
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'another process has it open, such as a netctl daemon on the same --root: stop that one, or give this one a root of its own';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'the file is damaged or not a netctl store: move it away to start afresh (netctl reconciles with the kernel on start)';
  return 'check the disk (space, permissions) and that the file is a netctl store';
}

/** Emitters shared by the LocalStores of this process on one file, so each sees the others' writes. */
const sharedEmitters = new Map<string, { emitter: EventEmitter; users: number }>();

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
  INSERT OR IGNORE INTO revision (id, value) VALUES (1, 0);
  CREATE TRIGGER IF NOT EXISTS kv_revision_insert AFTER INSERT ON kv
    BEGIN UPDATE revision SET value = NEW.version WHERE id = 1 AND value < NEW.version; END;
  CREATE TRIGGER IF NOT EXISTS kv_revision_update AFTER UPDATE OF version ON kv
    BEGIN UPDATE revision SET value = NEW.version WHERE id = 1 AND value < NEW.version; END;
  -- Files written before the revision was kept by triggers: the revision is at least every version.
  UPDATE revision SET value = (SELECT max(version) FROM kv) WHERE id = 1 AND value < (SELECT coalesce(max(version), 0) FROM kv);
`;

const NEXT = '(SELECT value + 1 FROM revision WHERE id = 1)';

export class LocalStore implements Store {
  readonly scope = 'local' as const;
  private readonly db: Database.Database;
  private readonly emitter: EventEmitter;
  private readonly sharedKey: string | undefined;
  private readonly statements;
  private readonly watchers = new Set<(event: WatchEvent) => void>();
  private readonly transaction: Database.Transaction<(ops: Op[], events: WatchEvent[]) => number[]>;

  constructor(
    private readonly file: string,
    options: LocalStoreOptions = {},
  ) {
    try {
      // better-sqlite3 loads with the first local store, not with `require('netctl')`.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.db = new (require('better-sqlite3') as typeof Database)(file);
    } catch (error) {
      throw new StoreUnavailableError(`cannot open the local store ${file}: ${(error as Error).message}; check the path and its permissions`, error);
    }
    try {
      // Exclusive before WAL: the WAL index is then made in heap memory, not in a -shm file.
      if (options.exclusive) this.db.pragma('locking_mode = EXCLUSIVE');
      if (file !== ':memory:' && file !== '') this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
      this.statements = {
        get: this.db.prepare<[string], Row>('SELECT key, value, version FROM kv WHERE key = ?'),
        version: this.db.prepare<[string], number>('SELECT version FROM kv WHERE key = ?').pluck(),
        revision: this.db.prepare<[], number>('SELECT value FROM revision WHERE id = 1').pluck(),
        bump: this.db.prepare<[], number>('UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value').pluck(),
        // One statement each: the version comes from the revision row, the trigger advances it.
        upsert: this.db.prepare<[string, Buffer], number>(
          `INSERT INTO kv (key, value, version) VALUES (?, ?, ${NEXT})
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version RETURNING version`,
        ).pluck(),
        create: this.db.prepare<[string, Buffer], number>(`INSERT INTO kv (key, value, version) VALUES (?, ?, ${NEXT}) ON CONFLICT (key) DO NOTHING RETURNING version`).pluck(),
        replace: this.db.prepare<[Buffer, string, number], number>(`UPDATE kv SET value = ?, version = ${NEXT} WHERE key = ? AND version = ? RETURNING version`).pluck(),
        write: this.db.prepare<[string, Buffer, number]>('INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version'),
        remove: this.db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
        removeAt: this.db.prepare<[string, number]>('DELETE FROM kv WHERE key = ? AND version = ?'),
        listFrom: this.db.prepare<[string], Row>('SELECT key, value, version FROM kv WHERE key >= ? ORDER BY key'),
        listRange: this.db.prepare<[string, string], Row>('SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      };
      this.transaction = this.db.transaction((ops: Op[], events: WatchEvent[]) => this.applyOps(ops, events));
    } catch (error) {
      this.db.close();
      throw new StoreUnavailableError(`cannot use the local store ${file}: ${(error as Error).message}; ${adviceFor(error)}`, error);
    }
    // Share the emitter with the other stores of this process on the same file.
    this.sharedKey = this.db.memory || file === '' ? undefined : fs.realpathSync(file);
    const shared = this.sharedKey === undefined ? undefined : sharedEmitters.get(this.sharedKey);
    if (shared) {
      shared.users += 1;
      this.emitter = shared.emitter;
    } else {
      this.emitter = new EventEmitter().setMaxListeners(0);
      if (this.sharedKey !== undefined) sharedEmitters.set(this.sharedKey, { emitter: this.emitter, users: 1 });
    }
  }

  /** The highest version handed out so far (0 for a new store). */
  revision(): number {
    return this.run(() => this.statements.revision.get()!);
  }

  async get(key: string): Promise<Entry | undefined> {
    return this.run(() => this.statements.get.get(key));
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    const version = this.run(() => {
      if (expectVersion === undefined) return this.statements.upsert.get(key, value)!;
      const written = expectVersion === 0 ? this.statements.create.get(key, value) : this.statements.replace.get(value, key, expectVersion);
      if (written === undefined) throw new CasConflictError(key, expectVersion, this.statements.version.get(key) ?? 0);
      return written;
    });
    this.emit([{ type: 'put', entry: { key, value, version } }]);
    return version;
  }

  async delete(key: string, expectVersion?: number): Promise<void> {
    const removed = this.run(() => {
      if (expectVersion === undefined) return this.statements.remove.run(key).changes > 0;
      if (expectVersion === 0) {
        const actual = this.statements.version.get(key);
        if (actual !== undefined) throw new CasConflictError(key, 0, actual);
        return false;
      }
      if (this.statements.removeAt.run(key, expectVersion).changes > 0) return true;
      throw new CasConflictError(key, expectVersion, this.statements.version.get(key) ?? 0);
    });
    if (removed) this.emit([{ type: 'delete', key }]);
  }

  async list(prefix: string): Promise<Entry[]> {
    const end = prefixEnd(prefix);
    return this.run(() => (end === undefined ? this.statements.listFrom.all(prefix) : this.statements.listRange.all(prefix, end)));
  }

  async commit(ops: Op[]): Promise<number[]> {
    if (ops.length === 0) return [];
    const events: WatchEvent[] = [];
    const versions = this.run(() => this.transaction.immediate(ops, events));
    this.emit(events);
    return versions;
  }

  /** The body of `commit` (run in one IMMEDIATE transaction): every guard first, then every write. */
  private applyOps(ops: Op[], events: WatchEvent[]): number[] {
    for (const op of ops) {
      if (op.expectVersion === undefined) continue;
      const actual = this.statements.version.get(op.key) ?? 0;
      if (actual !== op.expectVersion) throw new CasConflictError(op.key, op.expectVersion, actual);
    }
    // One revision for the whole change, as in etcd: every put of it gets the same version.
    const revision = ops.some((op) => op.type === 'put') ? this.statements.bump.get()! : 0;
    return ops.map((op) => {
      if (op.type === 'put') {
        this.statements.write.run(op.key, op.value, revision);
        events.push({ type: 'put', entry: { key: op.key, value: op.value, version: revision } });
        return revision;
      }
      if (this.statements.remove.run(op.key).changes > 0) events.push({ type: 'delete', key: op.key });
      return 0;
    });
  }

  async watch(prefix: string, onEvent: (event: WatchEvent) => void): Promise<Watch> {
    if (!this.db.open) throw new StoreUnavailableError(`the local store ${this.file} is closed`);
    const listener = (event: WatchEvent): void => {
      const key = event.type === 'put' ? event.entry.key : event.key;
      if (!key.startsWith(prefix)) return;
      try {
        onEvent(event);
      } catch (error) {
        // The write is committed; a throwing watcher must not fail it or starve the other watchers.
        process.nextTick(() => {
          throw error;
        });
      }
    };
    this.emitter.on('change', listener);
    this.watchers.add(listener);
    return {
      close: async () => {
        this.emitter.off('change', listener);
        this.watchers.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.db.close();
    for (const listener of this.watchers) this.emitter.off('change', listener);
    this.watchers.clear();
    if (this.sharedKey !== undefined) {
      const shared = sharedEmitters.get(this.sharedKey);
      if (shared && --shared.users === 0) sharedEmitters.delete(this.sharedKey);
    }
  }

  /** Watchers hear of a change only once it is committed. */
  private emit(events: WatchEvent[]): void {
    for (const event of events) this.emitter.emit('change', event);
  }

  /** Runs a database call; a CAS conflict passes through, anything else means the store is unusable. */
  private run<T>(body: () => T): T {
    if (!this.db.open) throw new StoreUnavailableError(`the local store ${this.file} is closed`);
    try {
      return body();
    } catch (error) {
      if (error instanceof CasConflictError) throw error;
      throw new StoreUnavailableError(`the local store ${this.file} failed: ${(error as Error).message}; ${adviceFor(error)}`, error);
    }
  }
}
