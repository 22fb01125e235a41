// Typed netlink errors: the errno name, what was being done, and to what, never a bare number.
import os from 'node:os';
import util from 'node:util';

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([name, value]) => [value, name]));

export function errnoName(errno: number): string {
  // ENOTSUP and EOPNOTSUPP share a number on Linux; users search for the latter.
  if (errno === os.constants.errno.EOPNOTSUPP) return 'EOPNOTSUPP';
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/** The kernel refused a request. `code` is the errno name, e.g. 'EEXIST'. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly code: string;
  constructor(
    readonly errno: number,
    /** What was being done, e.g. 'creating link'. */
    readonly operation: string,
    /** To what, e.g. '"br-n1"'. */
    readonly object: string,
    /** The kernel's extended-ack explanation, when it gave one. */
    readonly kernelMessage?: string,
  ) {
    const code = errnoName(errno);
    super(`${code} ${operation} ${object}: ${describeErrno(errno)}${kernelMessage ? ` (kernel: ${kernelMessage})` : ''}`);
    this.code = code;
  }
}

function describeErrno(errno: number): string {
  // libuv words EOPNOTSUPP for sockets; from netlink it means "this kernel lacks the feature".
  if (errno === os.constants.errno.EOPNOTSUPP) return 'operation not supported by this kernel';
  return util.getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;
}

/** A value was refused before anything was sent to the kernel. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    readonly argument: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid ${argument} ${JSON.stringify(value)}: ${rule}`);
  }
}

/** A named link does not exist in the handle's namespace. */
export class LinkNotFoundError extends Error {
  override readonly name = 'LinkNotFoundError';
  readonly code = 'ENODEV';
  constructor(readonly link: string | number) {
    super(`link ${typeof link === 'string' ? `"${link}"` : `#${link}`} not found`);
  }
}
