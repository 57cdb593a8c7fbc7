/**
 * The exit code Docker records for an exec the OCI runtime could not start: 127 when the
 * executable itself is missing (`exec: "cmd": executable file not found` or its stat failing),
 * 126 for everything else (not executable, a working directory that is not there, ...).
 */
export function execExitCode(runtimeError: string): number {
  return /exec: "[^"]*": (executable file not found|.*no such file or directory)/.test(runtimeError) ? 127 : 126;
}
