/**
 * The exit code Docker records for an exec the OCI runtime could not start: 127 when the
 * executable itself is missing (not found in $PATH, or its path does not exist), 126 for
 * everything else (not executable, a working directory that is not there, ...).
 */
export function execExitCode(runtimeError: string): number {
  if (/chdir to cwd/.test(runtimeError)) return 126;
  return /executable file not found|no such file or directory/.test(runtimeError) ? 127 : 126;
}
