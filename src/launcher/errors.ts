// The launcher's errors, by the HTTP status Docker answers them with.

/** 404: no such container. */
export class NoSuchContainerError extends Error {
  override readonly name = 'NoSuchContainerError';
}

/** 409: the request conflicts with the container's state or another container's name. */
export class ContainerConflictError extends Error {
  override readonly name = 'ContainerConflictError';
}

/** 400: the container's configuration is wrong. */
export class InvalidContainerConfigError extends Error {
  override readonly name = 'InvalidContainerConfigError';
}

/** 403 (dockerd answers 500): a disconnect from a network the container is not configured on. */
export class NotConnectedError extends Error {
  override readonly name = 'NotConnectedError';
}
