// Where the daemon looks for Docker plugins: Docker's directories, unless the environment moves
// them (tests run a daemon per test host, each with its own plugins).
import type { PluginClientOptions } from '../drivers/remote/client';
import { DOCKER_ROOTS, type DiscoveryRoots } from '../drivers/remote/discovery';

const PLUGIN_ENV = {
  socketsDir: 'NETCTL_PLUGIN_SOCKETS_DIR',
  specDirs: 'NETCTL_PLUGIN_SPEC_DIRS',
  retrySeconds: 'NETCTL_PLUGIN_RETRY_SECONDS',
  timeoutSeconds: 'NETCTL_PLUGIN_TIMEOUT_SECONDS',
} as const;

export function pluginSettings(env: NodeJS.ProcessEnv): { roots: DiscoveryRoots; client: PluginClientOptions } {
  const seconds = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${text}: expected a number of seconds`);
    return value * 1000;
  };
  const retryWindowMs = seconds(PLUGIN_ENV.retrySeconds);
  const callTimeoutMs = seconds(PLUGIN_ENV.timeoutSeconds);
  return {
    roots: {
      socketsDir: env[PLUGIN_ENV.socketsDir] || DOCKER_ROOTS.socketsDir,
      specDirs: env[PLUGIN_ENV.specDirs] !== undefined ? env[PLUGIN_ENV.specDirs]!.split(':').filter((dir) => dir !== '') : DOCKER_ROOTS.specDirs,
    },
    client: { ...(retryWindowMs !== undefined ? { retryWindowMs } : {}), ...(callTimeoutMs !== undefined ? { callTimeoutMs } : {}) },
  };
}
