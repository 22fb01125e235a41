// Parsing of caller-supplied values into typed errors that name the value and the rule.
import { InvalidAddressError, parsePrefix, type Prefix } from '../ip/address';
import { InvalidCidrError } from './errors';

/** Parses a CIDR argument ("subnet", "IP range", "excluded prefix"); host bits must be zero. */
export function cidrArgument(text: unknown, what: string): Prefix {
  if (typeof text !== 'string') throw new InvalidCidrError(String(text), what, 'must be a string in CIDR notation like 10.1.0.0/16');
  if (text.includes('%')) throw new InvalidCidrError(text, what, 'a zone index (%...) has no place in a subnet');
  try {
    return parsePrefix(text);
  } catch (error) {
    if (error instanceof InvalidAddressError) throw new InvalidCidrError(text, what, error.rule);
    throw error;
  }
}
