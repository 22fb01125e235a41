// One run of a peer's binary (a CNI plugin, netavark), timed as its real callers make it: podman
// and containerd are Go programs, and Go starts a process with clone(CLONE_VM | CLONE_VFORK). So
// does posix_spawn (spawnAndWait in the addon); Node's child_process forks the whole Node process,
// which charged each call ~5 ms here that no real caller pays.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../src/native/addon';
import { environmentEntries } from '../src/native/process';

/** Where Debian's containernetworking-plugins are. */
export const CNI_PLUGINS = '/usr/lib/cni';

/** A CNI plugin's whole environment: the spec passes a call's parameters in CNI_* variables. */
export function cniEnvironment(command: 'ADD' | 'DEL', containerId: string, netns: string): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: CNI_PLUGINS, PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
}

/** One run of a peer's binary, as the peer's callers make it. */
export interface PeerCall {
  /** Names the call in errors. */
  what: string;
  file: string;
  /** argv[0] included. */
  argv: string[];
  /** The whole environment; absent: this process's. */
  env?: Record<string, string>;
  /** The JSON the binary reads on stdin. */
  input: string;
}

/**
 * Makes one call and returns its time in ms. Its input, stdout and stderr are files in `workdir`,
 * written and opened before the clock starts: only the process's start, run and exit are timed.
 * spawnAndWait blocks until the peer exits: the caller bounds its whole run (attach-common.ts
 * kills a runner's process group, the peer with it, when it hangs or the bench exits).
 */
export function timedCall(call: PeerCall, workdir: string): number {
  const input = path.join(workdir, 'call.in');
  const output = path.join(workdir, 'call.out');
  const errors = path.join(workdir, 'call.err');
  fs.writeFileSync(input, call.input);
  const stdin = fs.openSync(input, 'r');
  const stdout = fs.openSync(output, 'w');
  const stderr = fs.openSync(errors, 'w');
  const { spawnAndWait } = native();
  const environment = call.env && environmentEntries(call.env);
  let status: number;
  let ms: number;
  try {
    const start = process.hrtime.bigint();
    status = spawnAndWait(call.file, call.argv, stdin, stdout, stderr, environment);
    ms = Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    for (const fd of [stdin, stdout, stderr]) fs.closeSync(fd);
  }
  if (status !== 0) throw new Error(`${call.what} failed (${status}): ${fs.readFileSync(errors, 'utf8')}${fs.readFileSync(output, 'utf8')}`);
  return ms;
}

