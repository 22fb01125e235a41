// /_ping and /version: what a Docker client asks first to negotiate the API version; /info.
import os from 'node:os';
import { infoJson } from './info';
import type { DaemonParts } from './routes';
import type { Router } from './router';
import { API_VERSION, MIN_API_VERSION } from './version';

// Docker clients read these on every ping to pick the API version they speak.
const PING_HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  'Ostype': 'linux',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  'Pragma': 'no-cache',
};

export function addSystemRoutes(router: Router, parts: DaemonParts): void {
  const netctlVersion = parts.engine.version;
  router.add('GET', '/info', () => ({ status: 200, body: infoJson(parts.engine, parts.controller, parts.launcher, parts.images) }));
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
