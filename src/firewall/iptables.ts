// The only place netctl runs iptables: iptables-save to read a table, iptables-restore
// --noflush to apply a batch atomically per table. Optionally inside another network namespace.
import { spawn } from 'node:child_process';
import { FirewallError } from './errors';
import type { Table } from './render';
import { parseSave, type TableState } from './state';

export interface IptablesOptions {
  /** Run inside this network namespace (a path like /run/netns/x) through nsenter. */
  netns?: string;
}

function run(options: IptablesOptions, command: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = options.netns ? ['nsenter', `--net=${options.netns}`, command, ...args] : [command, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (child.stdin) {
      // A tool that exits early (a refused batch) closes its stdin: its exit code tells the story.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

export async function readTable(options: IptablesOptions, table: Table): Promise<TableState> {
  const result = await run(options, 'iptables-save', ['-t', table]);
  if (result.code !== 0) throw new FirewallError(table, result.stderr, undefined);
  return parseSave(result.stdout);
}

/** Applies one table's batch; all of it or nothing (iptables-restore commits per table). */
export async function applyBatch(options: IptablesOptions, table: Table, input: string): Promise<void> {
  const result = await run(options, 'iptables-restore', ['--noflush'], input);
  if (result.code === 0) return;
  // Two wordings: "line N failed" (per-rule errors) and "Error occurred at line: N" (nf_tables
  // reports some at the COMMIT that sent them); stderr itself says what was wrong.
  const line = /line (\d+) failed|Error occurred at line: (\d+)/.exec(result.stderr)?.slice(1).find(Boolean);
  throw new FirewallError(table, result.stderr, line ? input.split('\n')[Number(line) - 1] : undefined);
}
