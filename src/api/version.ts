// The Engine API versions netctl speaks, and how a client's /v1.NN is checked against them.
import { badRequest } from './errors';

/** The Docker Engine API version whose network paths and fields netctl follows. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

/** Orders "1.41"-style API versions numerically. */
function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number) as [number, number];
  const [bMajor, bMinor] = b.split('.').map(Number) as [number, number];
  return aMajor - bMajor || aMinor - bMinor;
}

/** As dockerd: a client asking for a version the daemon does not speak is told so, not half-served. */
export function checkApiVersion(version: string): void {
  if (compareVersions(version, API_VERSION) > 0) throw badRequest(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (compareVersions(version, MIN_API_VERSION) < 0) throw badRequest(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
}
