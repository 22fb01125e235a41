// Network sysctls of the namespace this process runs in (/proc/sys/net is per network namespace:
// a daemon started inside a test host changes only that host).
import fs from 'node:fs';

export class SysctlError extends Error {
  override readonly name = 'SysctlError';
}

/** Sets a sysctl like "net/ipv4/ip_forward" unless it already has that value. */
export function ensureSysctl(key: string, value: string): void {
  const file = `/proc/sys/${key}`;
  try {
    if (fs.readFileSync(file, 'utf8').trim() === value) return;
    fs.writeFileSync(file, value);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the kernel has no such setting (is its module loaded?)' : (error as Error).message;
    throw new SysctlError(`cannot set ${key.replaceAll('/', '.')}=${value}: ${reason}`);
  }
}
