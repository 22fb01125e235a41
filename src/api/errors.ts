// Errors that carry the HTTP status Docker's API would answer with; the message is what the user reads.
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../controller/errors';
import { InvalidOptionError, PortConflictError } from '../drivers/driver';
import { InvalidRuleError } from '../firewall';
import { InvalidRequestError, IpamContentionError, IpamError } from '../ipam';
import { ContainerConflictError, ContainerStartError, InvalidContainerConfigError, NoSuchContainerError } from '../launcher';
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

/** The status Docker answers a failure of this kind with. */
export function statusOf(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  if (error instanceof InvalidParameterError || error instanceof InvalidRequestError || error instanceof InvalidRuleError) return 400;
  if (error instanceof InvalidContainerConfigError || error instanceof ContainerStartError || error instanceof InvalidOptionError) return 400;
  if (error instanceof NotFoundError || error instanceof NoSuchContainerError) return 404;
  if (error instanceof ConflictError || error instanceof ContainerConflictError || error instanceof PortConflictError) return 409;
  if (error instanceof IpamContentionError || error instanceof StoreUnavailableError) return 503;
  // Pool overlaps, exhausted pools, addresses in use: well-formed requests the state refuses.
  if (error instanceof ForbiddenError || error instanceof IpamError) return 403;
  return 500;
}
