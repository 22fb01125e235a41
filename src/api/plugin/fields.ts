// Reading a plugin call's JSON body: each field checked for presence and type, with a message that
// names the call, the field and what it must be (Docker sends Go's field names, case-sensitive).
import { describeValue } from '../errors';

/** A request Docker (or another client) got wrong: answered 400 with {"Err": message}. */
export class PluginInputError extends Error {
  override readonly name = 'PluginInputError';
}

export type Fields = Record<string, unknown>;

/** The body as an object; calls that take no arguments send none. */
export function objectBody(call: string, body: unknown): Fields {
  if (body === undefined) throw new PluginInputError(`${call}: the request body is empty; send a JSON object`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new PluginInputError(`${call}: the request body must be a JSON object, got ${describeValue(body)}`);
  return body as Fields;
}

export function requiredString(call: string, fields: Fields, key: string): string {
  const value = fields[key];
  if (value === undefined || value === null || value === '') throw new PluginInputError(`${call}: field "${key}" is missing`);
  if (typeof value !== 'string') throw new PluginInputError(`${call}: field "${key}" must be a string, got ${describeValue(value)}`);
  return value;
}

/** An optional string; absent, null and "" all mean "not given". */
export function optionalString(call: string, fields: Fields, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new PluginInputError(`${call}: field "${key}" must be a string, got ${describeValue(value)}`);
  return value;
}

export function optionalBoolean(call: string, fields: Fields, key: string): boolean {
  const value = fields[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new PluginInputError(`${call}: field "${key}" must be true or false, got ${describeValue(value)}`);
  return value;
}

/** An object field (absent or null: empty). */
export function optionalObject(call: string, fields: Fields, key: string): Fields {
  const value = fields[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new PluginInputError(`${call}: field "${key}" must be an object, got ${describeValue(value)}`);
  return value as Fields;
}

/** A map of strings, as Docker's `-o` options and IPAM options are. */
export function stringMap(call: string, fields: Fields, key: string): Record<string, string> {
  const map = optionalObject(call, fields, key);
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new PluginInputError(`${call}: "${key}.${name}" must be a string, got ${describeValue(value)}`);
  }
  return map as Record<string, string>;
}

export function optionalArray(call: string, fields: Fields, key: string): unknown[] {
  const value = fields[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PluginInputError(`${call}: field "${key}" must be a list, got ${describeValue(value)}`);
  return value;
}

const DOCKER_ID = /^[0-9a-f]{64}$/;

/** A NetworkID or EndpointID: Docker's are 64 lowercase hex digits, and the kernel names derive from them. */
export function dockerId(call: string, fields: Fields, key: string): string {
  const id = requiredString(call, fields, key);
  if (!DOCKER_ID.test(id)) throw new PluginInputError(`${call}: ${key} ${describeValue(id)} is not an ID: give 64 lowercase hex digits, as Docker does`);
  return id;
}
