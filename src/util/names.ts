// Names users give networks, containers (their endpoints' names) and network aliases: Docker's
// characters, [a-zA-Z0-9][a-zA-Z0-9_.-]*, and at most 63 of them (Docker has no limit). The
// embedded DNS answers each name as asked and a PTR with `container.network`: 63 is a DNS label's
// most (RFC 1035 §2.3.4), so every name encodes whatever its dots, and `container.network` (127 at
// most) stays well within a name's 255 bytes. None of these names reaches the kernel.

export const MAX_NAME_LENGTH = 63;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export type NameProblem = 'length' | 'characters';

/** What is wrong with a name, if anything; length first, so a huge name is never scanned or echoed. */
export function nameProblem(name: string): NameProblem | undefined {
  if (name.length > MAX_NAME_LENGTH) return 'length';
  return NAME.test(name) ? undefined : 'characters';
}

/** A name as a message quotes it: a long one cut short. */
const quoteName = (name: string): string => (name.length > MAX_NAME_LENGTH ? `${JSON.stringify(name.slice(0, 32))}… (${name.length} characters)` : JSON.stringify(name));

/** What a refusal says, e.g. `invalid network alias "a b": use letters, ...`. */
export function invalidNameMessage(kind: string, name: string, problem: NameProblem): string {
  return problem === 'length'
    ? `invalid ${kind} ${quoteName(name)}: at most ${MAX_NAME_LENGTH} characters are allowed (the embedded DNS answers with it, and a DNS label holds ${MAX_NAME_LENGTH}); choose a shorter one`
    : `invalid ${kind} ${quoteName(name)}: use letters, digits, "_", "." and "-", starting with a letter or digit`;
}
