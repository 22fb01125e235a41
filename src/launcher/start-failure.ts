// The exit code Docker gives a start that failed: 127 when the command was not found, 126 when it
// could not be run, 128 for anything else (a network, a port); the CLI's run exits 125 for those.

const EXEC_FAILURE = /^exec /;
const NOT_FOUND = /executable file not found|no such file/i;

/** State.ExitCode of a container whose start failed with `message`, as dockerd records it. */
export function startFailureExitCode(message: string): 126 | 127 | 128 {
  if (!EXEC_FAILURE.test(message)) return 128;
  return NOT_FOUND.test(message) ? 127 : 126;
}
