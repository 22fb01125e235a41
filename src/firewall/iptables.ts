// The only place netctl runs iptables: iptables-save to read the tables, iptables-restore
// --noflush to apply a batch (each table commits atomically), for either family, optionally
// inside another network namespace. One process per change: every iptables-nft process that
// deleted something waits an RCU grace period when it closes its netlink socket. The processes
// start through the addon's posix_spawn (runProcess), off the event loop: child_process forks the
// whole daemon, whose page tables cost milliseconds to copy on every change.
import { locateTool, runProcess } from '../native/process';
import { FirewallError } from './errors';
import type { FamilyTraits } from './family';
import type { Batches, Table } from './render';
import { emptyTable, parseSave, type TableState } from './state';

export interface IptablesOptions {
  /** Run inside this network namespace (a path like /run/netns/x) through nsenter. */
  netns?: string;
}

export type Tables = Record<Table, TableState>;

const TABLES: readonly Table[] = ['filter', 'nat'];

/**
 * A save or restore takes milliseconds, seconds with tens of thousands of rules on a loaded
 * machine. One that runs this long is hung (e.g. on a lock held by another program): it is
 * killed, and the change fails and is rolled back, rather than stalling the daemon for good.
 */
const TOOL_TIMEOUT_MS = 60_000;

async function run(options: IptablesOptions, command: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const tool = locateTool(command, 'iptables');
  // nsenter would search PATH for the tool itself; it is given the path found here instead.
  const [file, argv] = options.netns ? [locateTool('nsenter', 'util-linux'), ['nsenter', `--net=${options.netns}`, tool, ...args]] : [tool, [command, ...args]];
  const result = await runProcess(file, argv, { timeoutMs: TOOL_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
  return { code: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** Both tables from one iptables-save; a table nothing has used yet is empty. */
export async function readTables(options: IptablesOptions, traits: FamilyTraits): Promise<Tables> {
  const result = await run(options, `${traits.command}-save`, []);
  if (result.code !== 0) throw new FirewallError(traits.command, 'filter and nat', result.stderr, undefined);
  const tables: Tables = { filter: emptyTable(), nat: emptyTable() };
  for (const section of result.stdout.split(/^\*/m).slice(1)) {
    const name = section.slice(0, section.indexOf('\n'));
    if (name === 'filter' || name === 'nat') tables[name] = parseSave(section);
  }
  return tables;
}

/**
 * Applies the tables' batches in one iptables-restore; a table with an empty batch is left out.
 * Tables commit one after the other: when a later one fails, the earlier ones are in.
 */
export async function applyBatches(options: IptablesOptions, traits: FamilyTraits, batches: Batches): Promise<void> {
  const sections = TABLES.filter((table) => batches[table].length > 0).map((table) => ({ table, lines: [`*${table}`, ...batches[table], 'COMMIT'] }));
  if (sections.length === 0) return;
  const lines = sections.flatMap((s) => s.lines);
  const result = await run(options, `${traits.command}-restore`, ['--noflush'], `${lines.join('\n')}\n`);
  if (result.code === 0) return;
  // Two wordings: "line N failed" (per-rule errors) and "Error occurred at line: N" (nf_tables
  // reports some at the COMMIT that sent them); stderr itself says what was wrong.
  const number = Number(/line (\d+) failed|Error occurred at line: (\d+)/.exec(result.stderr)?.slice(1).find(Boolean) ?? 0);
  let table: string = sections.map((s) => s.table).join(' and ');
  let first = 1;
  for (const section of sections) {
    if (number >= first && number < first + section.lines.length) table = section.table;
    first += section.lines.length;
  }
  throw new FirewallError(traits.command, table, result.stderr, number > 0 ? lines[number - 1] : undefined);
}
