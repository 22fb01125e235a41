// What every client command shares: its terminal, the daemon flags, argument checks, and running
// one subcommand (help, parsing, the daemon's refusals printed as Docker prints them).
import readline from 'node:readline/promises';
import { ApiClient, DaemonError } from '../api/client';
import { DEFAULT_HOST } from '../daemon/options';
import { type FlagSpec, helpText, type ParsedArgs, parseArgs, UsageError } from './args';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  ask(question: string): Promise<string>;
}

export const stdio: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  ask: async (question) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

export interface Subcommand {
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Flags end at the first positional argument: what follows is a command and its own flags. */
  commandFollows?: boolean;
  run(args: ParsedArgs, client: ApiClient, io: Io): Promise<number>;
}

const HOST_FLAG: FlagSpec = { name: 'host', short: 'H', type: 'string', description: 'daemon socket to connect to (or NETCTL_HOST)', defaultText: DEFAULT_HOST };
const HELP_FLAG: FlagSpec = { name: 'help', type: 'boolean', description: 'print this help' };

export const list = (args: ParsedArgs, name: string): string[] => (args.flags.get(name) as string[] | undefined) ?? [];
export const str = (args: ParsedArgs, name: string): string | undefined => args.flags.get(name) as string | undefined;
export const bool = (args: ParsedArgs, name: string): boolean => args.flags.get(name) === true;

const commandOf = (usage: string): string => usage.split(' ').slice(1).filter((w) => /^[a-z]+$/.test(w)).join(' ');

/** `-f key=value` flags into Docker's filters JSON, as a query string ("" for none). */
export function filtersQuery(values: string[]): string {
  if (values.length === 0) return '';
  const filters: Record<string, Record<string, boolean>> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq < 1) throw new UsageError(`bad format of filter (expected name=value): ${value}`);
    (filters[value.slice(0, eq)] ??= {})[value.slice(eq + 1)] = true;
  }
  return `?filters=${encodeURIComponent(JSON.stringify(filters))}`;
}

export function exactly(args: ParsedArgs, count: number, usage: string): string[] {
  if (args.positionals.length !== count) throw new UsageError(`"netctl ${commandOf(usage)}" requires exactly ${count} argument${count > 1 ? 's' : ''}.\nUsage:  ${usage}`);
  return args.positionals;
}

export function atLeastOne(args: ParsedArgs, usage: string): string[] {
  if (args.positionals.length === 0) throw new UsageError(`"netctl ${commandOf(usage)}" requires at least 1 argument.\nUsage:  ${usage}`);
  return args.positionals;
}

/** Parses `argv` for `subcommand` (named `name` in messages) and runs it against the daemon. */
export async function execute(subcommand: Subcommand, name: string, argv: string[], io: Io): Promise<number> {
  const flags = [...subcommand.flags, HOST_FLAG, HELP_FLAG];
  const args = parseArgs(argv, flags, name, subcommand.commandFollows === true);
  if (bool(args, 'help')) {
    io.out(helpText(subcommand.usage, subcommand.summary, flags));
    return 0;
  }
  const client = new ApiClient(str(args, 'host') ?? process.env['NETCTL_HOST'] ?? DEFAULT_HOST);
  try {
    return await subcommand.run(args, client, io);
  } catch (error) {
    if (!(error instanceof DaemonError)) throw error;
    io.err(`Error response from daemon: ${error.message}\n`);
    return 1;
  }
}
