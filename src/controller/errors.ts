// The core's errors, one class per kind of refusal Docker's API distinguishes, so the API layer
// maps each to its HTTP status and the CLI to its exit code.

export class ControllerError extends Error {}

/** 400: the request itself is wrong (malformed, contradictory). */
export class InvalidParameterError extends ControllerError {
  override readonly name = 'InvalidParameterError';
}

/** 404: no such network (or driver). */
export class NotFoundError extends ControllerError {
  override readonly name = 'NotFoundError';
}

/** 409: the name is taken. */
export class ConflictError extends ControllerError {
  override readonly name = 'ConflictError';
}

/** 403: well-formed but not allowed now (in use, predefined). */
export class ForbiddenError extends ControllerError {
  override readonly name = 'ForbiddenError';
}

/** 500: a driver answered against its contract (a malformed proposal, say); the driver is at fault, not the request. */
export class DriverContractError extends ControllerError {
  override readonly name = 'DriverContractError';
}

/** 503: the cluster store (etcd) cannot take the change now (unreachable, or other hosts kept changing the same keys); local work goes on. */
export class ClusterUnavailableError extends ControllerError {
  override readonly name = 'ClusterUnavailableError';
}
