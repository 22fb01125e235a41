// Store fixtures of released netctl versions (made by make-fixture.ts): release-<commit>.db, the
// store a release's daemon left, and release-<commit>.json, what that release showed of it.
import fs from 'node:fs';
import path from 'node:path';

const STORES_DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'stores');

export const fixtureFiles = (release: string): { store: string; sidecar: string } => ({
  store: path.join(STORES_DIR, `release-${release}.db`),
  sidecar: path.join(STORES_DIR, `release-${release}.json`),
});

/** `network inspect` as the release answered, without Containers. */
export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver: string;
  IPAM: { Config: Array<{ Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }> };
  Options: Record<string, string>;
  [field: string]: unknown;
}

export interface EndpointInspect {
  NetworkID: string;
  IPAddress: string;
  GlobalIPv6Address: string;
  MacAddress: string;
  Aliases: string[] | null;
  [field: string]: unknown;
}

/** `inspect` of a container as the release answered. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; ExitCode: number; [field: string]: unknown };
  Config: { Rootfs: string; [field: string]: unknown };
  HostConfig: { NetworkMode: string; [field: string]: unknown };
  NetworkSettings: { Networks: Record<string, EndpointInspect>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface RecordedContainer {
  /** --ip and --ip6 as given (inspect does not tell a static address from another). */
  static: { ipv4?: string; ipv6?: string };
  inspect: ContainerInspect;
}

export interface Sidecar {
  /** The commit whose daemon wrote the store. */
  release: string;
  /** Its --root: the busybox root its containers name lies under it. */
  root: string;
  networks: NetworkInspect[];
  containers: RecordedContainer[];
}

export const readSidecar = (release: string): Sidecar => JSON.parse(fs.readFileSync(fixtureFiles(release).sidecar, 'utf8')) as Sidecar;
