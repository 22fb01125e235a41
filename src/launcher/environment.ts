// A container's environment from Docker's Env list. Pure.

/**
 * KEY=VALUE sets KEY (a later entry wins); a bare KEY unsets it, as Docker does with an entry
 * without "=" (e.g. "PATH" takes the default PATH away).
 */
export function environmentOf(entries: readonly string[]): Record<string, string> {
  const env = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq === -1) env.delete(entry);
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return Object.fromEntries(env);
}

/** Why an Env entry cannot be passed to a process, or undefined. */
export function invalidEnvEntry(entry: string): string | undefined {
  // Docker's message for an empty name.
  if (entry === '' || entry.startsWith('=')) return `invalid environment variable: ${entry}`;
  if (entry.includes('\0')) return `invalid environment variable ${JSON.stringify(entry)}: it holds a NUL character, which no environment can carry`;
  return undefined;
}
