// GET /containers/{id}/top (docker top, docker-compose top), as dockerd answers it: the host's
// `ps` with the client's ps_args (-ef by default), keeping the rows of the container's processes,
// which are those in its PID namespace.
import fs from 'node:fs';
import { locateTool, runProcess } from '../native/process';
import { ApiError, badRequest } from './errors';

const PS_TIMEOUT_MS = 10_000;

export interface ProcessTable {
  Titles: string[];
  Processes: string[][];
}

/** ps output as Docker reads it: the header's words are the titles, the last column takes the rest of each line. */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): ProcessTable {
  const [header = '', ...lines] = output.split('\n');
  const titles = header.trim().split(/\s+/).filter((title) => title !== '');
  const pidColumn = titles.indexOf('PID');
  if (pidColumn === -1) throw badRequest('Couldn\'t find PID field in ps output: keep the PID column in ps_args');
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/).filter((field) => field !== '');
    if (fields.length === 0) continue;
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidColumn]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

/** Host PIDs of the processes sharing `pid`'s PID namespace (a process gone meanwhile is left out). */
export function pidsInNamespaceOf(pid: number): Set<number> {
  const namespace = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  const pids = new Set<number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/pid`) === namespace) pids.add(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

export async function containerTop(containerId: string, pid: number | undefined, psArgs: string | null): Promise<ProcessTable> {
  if (pid === undefined) throw new ApiError(409, `Container ${containerId} is not running`);
  const args = (psArgs === null || psArgs.trim() === '' ? '-ef' : psArgs).trim().split(/\s+/);
  const ps = locateTool('ps', 'procps');
  const result = await runProcess(ps, ['ps', ...args], { timeoutMs: PS_TIMEOUT_MS });
  if (result.status !== 0) throw badRequest(`ps ${args.join(' ')}: ${result.stderr.toString('utf8').trim() || `exit code ${result.status}`}`);
  let pids: Set<number>;
  try {
    pids = pidsInNamespaceOf(pid);
  } catch {
    throw new ApiError(409, `Container ${containerId} is not running`);
  }
  return parsePsOutput(result.stdout.toString('utf8'), pids);
}
