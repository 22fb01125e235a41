// /_ping and /version: what a Docker client asks first to negotiate the API version.
import os from 'node:os';
import type { Router } from './router';

/** The Docker Engine API version whose network paths and fields netctl follows. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

// Docker clients read these on every ping to pick the API version they speak.
const PING_HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  'Ostype': 'linux',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  'Pragma': 'no-cache',
};

export function addSystemRoutes(router: Router, netctlVersion: string): void {
  router.add('GET', '/_ping', () => ({ status: 200, body: 'OK', headers: PING_HEADERS }));
  router.add('GET', '/version', () => ({
    status: 200,
    headers: { 'Api-Version': API_VERSION },
    body: {
      Platform: { Name: 'netctl' },
      Components: [{ Name: 'netctl', Version: netctlVersion, Details: { ApiVersion: API_VERSION } }],
      Version: netctlVersion,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      KernelVersion: os.release(),
      NodeVersion: process.version,
    },
  }));
}
