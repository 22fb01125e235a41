// Errors that carry the HTTP status Docker's API would answer with; the message is what the user reads.
import { ClusterUnavailableError, ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../controller/errors';
import { InvalidOptionError, PortConflictError } from '../drivers/driver';
import { InvalidRuleError } from '../firewall';
import { ImageConflictError, InvalidImageError, InvalidReferenceError, NoSuchImageError } from '../images';
import { InvalidAddressError } from '../ip/address';
import { InvalidRequestError, IpamContentionError, IpamError } from '../ipam';
import { ContainerConflictError, ContainerStartError, InvalidContainerConfigError, NoSuchContainerError, NotConnectedError } from '../launcher';
import { InvalidArgumentError } from '../netlink';
import { StoreUnavailableError } from '../store/errors';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);

/** A client's value as a message shows it: short JSON, or the kind of a list or object (never a huge or deep one whole). */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The status Docker answers a failure of this kind with. 500 is left for what no request can cause
 * or avoid: the kernel's refusals (NetlinkError, FirewallError, SysctlError), missing tools, a
 * store that fails, and bugs.
 */
export function statusOf(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  if (error instanceof InvalidParameterError || error instanceof InvalidRequestError || error instanceof InvalidRuleError) return 400;
  if (error instanceof InvalidContainerConfigError || error instanceof ContainerStartError || error instanceof InvalidOptionError) return 400;
  if (error instanceof InvalidReferenceError || error instanceof InvalidImageError) return 400;
  if (error instanceof NoSuchImageError) return 404;
  if (error instanceof ImageConflictError) return 409;
  // A value that does not parse, or that netlink refuses before sending: input that got past the checks above.
  if (error instanceof InvalidAddressError || error instanceof InvalidArgumentError) return 400;
  if (error instanceof NotFoundError || error instanceof NoSuchContainerError) return 404;
  if (error instanceof ConflictError || error instanceof ContainerConflictError || error instanceof PortConflictError) return 409;
  if (error instanceof IpamContentionError || error instanceof StoreUnavailableError || error instanceof ClusterUnavailableError) return 503;
  // Pool overlaps, exhausted pools, addresses in use: well-formed requests the state refuses.
  if (error instanceof ForbiddenError || error instanceof IpamError || error instanceof NotConnectedError) return 403;
  return 500;
}
