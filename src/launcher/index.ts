// The minimal container launcher.
export { type ControlChannel } from './control';
export { Launcher, type LauncherDeps, type Networking, type CreateRequest, type WaitCondition, NoSuchContainerError, ContainerConflictError, InvalidContainerConfigError, NotConnectedError, checkExecSettings } from './launcher';
export { aliasesWithShortId, dockerStatus, isUp, type ContainerRecord, type NetworkJoin, type ContainerConfig, type ContainerState, type ContainerStatus } from './container-record';
export { ContainerStartError } from './shim';
export type { SecurityConfig } from './confinement';
export { ensureBusyboxRoot, RootfsError } from './rootfs';
export { parseSignal } from './signals';
export { parseRestartFlag, type RestartPolicy, type RestartPolicyName } from './restart-policy';
