// The default container root: Debian's static busybox with a link per applet, made once under
// the daemon's root. Built in a scratch directory and renamed into place, so a crash half-way
// never leaves a broken root behind.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BUSYBOX = '/bin/busybox';

export class RootfsError extends Error {
  override readonly name = 'RootfsError';
}

/** The busybox root under `root`/images/busybox, made if missing. */
export function ensureBusyboxRoot(root: string): string {
  const target = path.join(root, 'images', 'busybox');
  if (fs.existsSync(path.join(target, 'bin', 'busybox'))) return target;
  if (!fs.existsSync(BUSYBOX)) throw new RootfsError(`${BUSYBOX} is missing: install Debian's busybox-static (scripts/setup.sh does), or pass --rootfs DIR`);
  const scratch = `${target}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  for (const dir of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) fs.mkdirSync(path.join(scratch, dir), { recursive: true });
  fs.chmodSync(path.join(scratch, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(scratch, 'bin', 'busybox'));
  fs.chmodSync(path.join(scratch, 'bin', 'busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet === '' || applet === 'busybox') continue;
    fs.symlinkSync('busybox', path.join(scratch, 'bin', applet));
  }
  fs.writeFileSync(path.join(scratch, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(scratch, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.renameSync(scratch, target);
  } catch (error) {
    // Another daemon on the same root made it first.
    fs.rmSync(scratch, { recursive: true, force: true });
    if (!fs.existsSync(path.join(target, 'bin', 'busybox'))) throw error;
  }
  return target;
}
