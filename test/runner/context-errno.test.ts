// Owns: tests of t.errno (harness/runner/context.ts), the one way cases turn a refused guest operation
// into an errno name, against the real agent (--stdio on the host, scratch files on a real disk).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { AgentError, type AgentClient } from "../../harness/guest/agent-client.ts";
import { CaseContext } from "../../harness/runner/context.ts";
import { scratchDir, startClient } from "../guest/agent-harness.ts";

let client: AgentClient;
let t: CaseContext;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ client } = await startClient());
  ({ dir, cleanup } = await scratchDir());
  await writeFile(path.join(dir, "f"), "x");
  // no kernel or images: t.errno uses only the agent
  t = new CaseContext(client, undefined as never, new Map(), "errno-test");
});

afterAll(async () => {
  client?.close();
  await cleanup?.();
});

describe("t.errno", () => {
  it('is "ok" when the operation succeeds', async () => {
    expect(await t.errno(client.openProbe(path.join(dir, "f"), ["O_RDONLY"]))).toBe("ok");
  });

  it("names the errno the kernel refused with", async () => {
    expect(await t.errno(client.openProbe(path.join(dir, "missing"), ["O_RDONLY"]))).toBe("ENOENT");
    expect(await t.errno(client.lseek(path.join(dir, "f"), "data", 4096))).toBe("ENXIO");
  });

  it("lets failures that are not the kernel's answer through (bad arguments, agent gone)", async () => {
    await expect(t.errno(client.fcntlProbe(path.join(dir, "f"), "bogus" as never))).rejects.toThrow(/unknown probe/);
    const { client: other } = await startClient();
    const gone = new CaseContext(other, undefined as never, new Map(), "errno-test");
    other.close();
    const err = await gone.errno(other.openProbe(path.join(dir, "f"), ["O_RDONLY"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).not.toBe("remote");
  });
});
