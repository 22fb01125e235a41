// Image names as Docker reads them: NAME[:TAG], NAME being lowercase path components joined by
// "/" (Docker Hub's "docker.io/library/" prefix dropped), TAG "latest" when none is given. Pure.

export class InvalidReferenceError extends Error {
  override readonly name = 'InvalidReferenceError';
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
// An optional registry host (with a dot or a port, or localhost) before the components.
const NAME = new RegExp(`^(?:(?:[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)+|localhost)(?::\\d+)?/|[a-zA-Z0-9-]+:\\d+/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^\w[\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

export interface ImageName {
  name: string;
  tag: string;
}

/** "name:tag" */
export const tagged = ({ name, tag }: ImageName): string => `${name}:${tag}`;

/** Splits and checks `reference`; Docker's messages for one that is not a name. */
export function parseReference(reference: string, defaultTag = 'latest'): ImageName {
  if (reference.includes('@')) throw new InvalidReferenceError('invalid reference format: netctl has no image digests; name an image as NAME[:TAG]');
  const colon = reference.lastIndexOf(':');
  const hasTag = colon > reference.lastIndexOf('/');
  let name = hasTag ? reference.slice(0, colon) : reference;
  const tag = hasTag ? reference.slice(colon + 1) : defaultTag;
  if (name.length > MAX_NAME_LENGTH) throw new InvalidReferenceError(`invalid reference format: repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  if (!NAME.test(name) || !TAG.test(tag)) {
    if (NAME.test(name.toLowerCase()) && TAG.test(tag)) throw new InvalidReferenceError('invalid reference format: repository name must be lowercase');
    throw new InvalidReferenceError('invalid reference format');
  }
  name = name.replace(/^docker\.io\//, '');
  if (/^library\/[^/]+$/.test(name)) name = name.slice('library/'.length);
  return { name, tag };
}
