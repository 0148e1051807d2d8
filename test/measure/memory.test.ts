// memcgStatUntil: reads memory.stat until the figure settles, within a bound; memcgCurrent reads
// memory.current. The agent is a stand-in
// (a mock is unavoidable: a real guest cannot be made to show a stale memory.stat on demand; case M3
// exercises the function against real kernels).
import { describe, expect, it } from "vitest";
import type { AgentClient } from "../../harness/guest/agent-client.ts";
import { memcgCurrent, memcgStatUntil } from "../../harness/measure/memory.ts";

/** An agent whose memory.stat "file" figure is the next of `values` on each read (the last one repeats). */
function agentShowing(values: (number | undefined)[]): { agent: AgentClient; paths: string[] } {
  const paths: string[] = [];
  let i = 0;
  const agent = {
    async readFile(path: string) {
      paths.push(path);
      const v = values[Math.min(i++, values.length - 1)];
      return { data: Buffer.from(`anon 4096\n${v === undefined ? "" : `file ${v}\n`}kernel 8192\n`) };
    },
  } as unknown as AgentClient;
  return { agent, paths };
}

describe("memcgStatUntil", () => {
  it("returns the first read without waiting when it already settles", async () => {
    const { agent, paths } = agentShowing([8_000_000]);
    const s = await memcgStatUntil(agent, "m3-b", "file", (v) => v >= 7_000_000);
    expect(s).toEqual({ value: 8_000_000, first: 8_000_000, ok: true, waitedMs: 0, reads: 1 });
    expect(paths).toEqual(["/sys/fs/cgroup/m3-b/memory.stat"]);
  });

  it("reads again until a stale figure catches up, and says how long that took", async () => {
    const { agent } = agentShowing([20_480, 20_480, 7_819_264]);
    const s = await memcgStatUntil(agent, "m3-b", "file", (v) => v >= 6_750_208, { intervalMs: 10 });
    expect(s.ok).toBe(true);
    expect(s.value).toBe(7_819_264);
    expect(s.first).toBe(20_480);
    expect(s.reads).toBe(3);
    expect(s.waitedMs).toBeGreaterThanOrEqual(15);
  });

  it("gives up after the bound with the last figure seen, not a passing one", async () => {
    const { agent } = agentShowing([20_480]);
    const s = await memcgStatUntil(agent, "m3-b", "file", (v) => v >= 6_750_208, { boundMs: 120, intervalMs: 20 });
    expect(s.ok).toBe(false);
    expect(s.value).toBe(20_480);
    expect(s.waitedMs).toBeGreaterThanOrEqual(120);
    expect(s.reads).toBeGreaterThan(2);
  });

  it("names the cgroup and field when memory.stat lacks the field", async () => {
    const { agent } = agentShowing([undefined]);
    await expect(memcgStatUntil(agent, "m3-a", "file", () => true)).rejects.toThrow(/memory.stat of m3-a has no "file" field/);
  });
});

describe("memcgCurrent", () => {
  it("reads the cgroup's memory.current, and gives undefined for a file without a number", async () => {
    const paths: string[] = [];
    const agentWith = (text: string) => ({ async readFile(p: string) { paths.push(p); return { data: Buffer.from(text) }; } }) as unknown as AgentClient;
    expect(await memcgCurrent(agentWith("8646656\n"), "m2-a")).toBe(8_646_656);
    expect(paths).toEqual(["/sys/fs/cgroup/m2-a/memory.current"]);
    expect(await memcgCurrent(agentWith("max\n"), "m2-a")).toBeUndefined();
  });
});
