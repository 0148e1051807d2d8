// A command whose promise never settles must not exit 0. The child processes here are small Node
// programs (no guest): one reproduces the failure mode of a boot loop waiting on an unref()'d timer
// after QEMU has gone, one settles normally.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { UNSETTLED_EXIT } from "../../harness/cli/settle-guard.ts";

const guard = new URL("../../harness/cli/settle-guard.ts", import.meta.url).pathname;

async function runChild(body: string) {
  const script = `import { guardUnsettled } from ${JSON.stringify(guard)};\n${body}`;
  return execa("npx", ["tsx", "--eval", script], { reject: false });
}

describe("guardUnsettled", () => {
  it("turns a drained event loop in mid-command into a non-zero exit with a message", async () => {
    const r = await runChild(`guardUnsettled(new Promise((r) => setTimeout(r, 60_000).unref()), "pcshare run");`);
    expect(r.exitCode).toBe(UNSETTLED_EXIT);
    expect(r.stderr).toContain("pcshare run stopped before it finished");
  }, 30_000);

  it("leaves a command that settled alone", async () => {
    const r = await runChild(`guardUnsettled(new Promise((r) => setTimeout(r, 50)), "pcshare run").then(() => { process.exitCode = 0; });`);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
  }, 30_000);
});
