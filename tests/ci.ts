/**
 * Whether a suite that needs something from the host (root, containers, a browser, a tool)
 * can run here. Outside CI a missing prerequisite skips the suite; under `CI=true` it fails
 * the file instead, naming what is missing, because a CI run that skips its real tests
 * proves nothing (scripts/setup.sh installs everything CI needs).
 */
export function canRun(available: boolean, what: string): boolean {
  if (!available && process.env.CI === 'true') {
    throw new Error(`CI=true but ${what} is not available here, so this suite cannot run; hint: run ./scripts/setup.sh as root (it installs what the tests need)`);
  }
  return available;
}
