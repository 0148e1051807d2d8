// The last line of defence against a false pass: a command whose promise never settled (Node ran
// out of things to wait for in the middle of it) must not exit 0. Installed once by the CLI.

/** Exit status when the event loop drained before the command finished (BSD EX_SOFTWARE). */
export const UNSETTLED_EXIT = 70;

/**
 * Watch `command`: when Node is about to exit while it is still pending, print one line and set a
 * non-zero exit status. Returns the same promise.
 */
export function guardUnsettled<T>(command: Promise<T>, name: string): Promise<T> {
  let settled = false;
  const onBeforeExit = () => {
    if (settled) return;
    settled = true; // say it once; exiting follows
    process.stderr.write(`pcshare: ${name} stopped before it finished (nothing was left to wait for): its work is incomplete\n`);
    process.exitCode = UNSETTLED_EXIT;
  };
  process.on("beforeExit", onBeforeExit);
  const done = () => {
    settled = true;
    process.off("beforeExit", onBeforeExit);
  };
  command.then(done, done);
  return command;
}
