// Docker-style flag parsing: --name value, --name=value, -x value, repeatable flags, booleans,
// and `--` ending the flags. Unknown flags are errors that name the flag and the command's help.

export interface FlagSpec {
  /** Long name without dashes, e.g. "host". */
  name: string;
  short?: string;
  /** boolean flags take no value; list flags may repeat. */
  type: 'string' | 'boolean' | 'list';
  description: string;
  /** Shown in help, e.g. "unix:///run/netctl/netctl.sock". */
  defaultText?: string;
}

export interface ParsedArgs {
  flags: Map<string, string | boolean | string[]>;
  positionals: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** With `commandFollows`, flags end at the first positional argument (`netctl run --name x sh -c ...`). */
export function parseArgs(argv: string[], specs: FlagSpec[], command: string, commandFollows = false): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (commandFollows) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    // Short boolean flags may be combined, as `ps -aq`.
    if (/^-[a-zA-Z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => byShort.get(c)?.type === 'boolean')) {
      for (const c of arg.slice(1)) flags.set(byShort.get(c)!.name, true);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg : arg.slice(0, eq);
    const spec = key.startsWith('--') ? byName.get(key.slice(2)) : byShort.get(key.slice(1));
    if (!spec) throw new UsageError(`unknown flag: ${key}\nSee 'netctl ${command} --help'.`);
    if (spec.type === 'boolean') {
      const value = eq === -1 ? 'true' : arg.slice(eq + 1);
      if (value !== 'true' && value !== 'false') throw new UsageError(`flag ${key} takes true or false, not "${value}"`);
      flags.set(spec.name, value === 'true');
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new UsageError(`flag needs an argument: ${key}\nSee 'netctl ${command} --help'.`);
    if (spec.type === 'list') {
      const list = (flags.get(spec.name) as string[] | undefined) ?? [];
      list.push(value);
      flags.set(spec.name, list);
    } else {
      flags.set(spec.name, value);
    }
  }
  return { flags, positionals };
}

export function helpText(usage: string, summary: string, specs: FlagSpec[]): string {
  const lines = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'boolean' ? '' : ' ' + (s.type === 'list' ? 'list' : 'string')}`;
    return `  ${names.padEnd(34)} ${s.description}${s.defaultText ? ` (default ${s.defaultText})` : ''}`;
  });
  return `Usage:  ${usage}\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n`;
}
