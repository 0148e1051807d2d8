// Record and replay against the real agent on the host (no guest): a client's requests are recorded
// through the runner's StepRecorder, turned into a step file (repro/guest-steps.ts), and the agent's
// --replay runs them again: helper pids are remapped, checks (errno, XXH64, page frames of two
// files) are judged again, the exit status says whether every check held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { buildAgent } from "../../harness/guest/build-agent.ts";
import { StepRecorder } from "../../harness/runner/steps.ts";
import { guestSteps } from "../../harness/repro/guest-steps.ts";
import type { Check } from "../../harness/report/model.ts";
import { scratchDir, startClient } from "./agent-harness.ts";

let dir: string;
let cleanup: () => Promise<void>;
let stepFile: string;
let data: string;
let other: string;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  data = path.join(dir, "data.bin");
  await writeFile(data, "the recorded bytes\n");
  other = path.join(dir, "other.bin");
  await writeFile(other, "other bytes\n");
  const { client, exited } = await startClient();
  const checks: Check[] = [];
  const rec = new StepRecorder(() => checks.length);
  client.tap = rec;
  const pid = await client.spawn(["/bin/sleep", "30"]);
  const missing = await client.openProbe(path.join(dir, "missing"), ["O_RDONLY"]).then(() => "ok", (e: { errname?: string }) => e.errname ?? "?");
  checks.push({ name: "open of a missing file", ok: missing === "ENOENT", expected: "ENOENT", seen: missing });
  const h = await client.readHash(data);
  await client.readHash(other); // a later reply: the digest check below still finds its own
  checks.push({ name: "bytes of data.bin", ok: true, expected: h.xxh64, seen: h.xxh64 });
  await client.pageFrames([data, data]);
  checks.push({ name: "one file mapped twice shares its frames", ok: true, expected: "yes", seen: "yes" });
  await client.pageFrames([data, other]);
  checks.push({ name: "two files share none", ok: true, expected: "no", seen: "no" });
  const killed = await client.procKill(pid);
  expect(killed.reaped).toBe(true);
  client.close();
  await exited;
  stepFile = path.join(dir, "steps.jsonl");
  await writeFile(stepFile, `${guestSteps(rec.steps, checks).lines.join("\n")}\n`);
}, 120_000);

afterAll(async () => cleanup?.());

async function replay(file: string) {
  return execa(await buildAgent(), ["--replay", file], { reject: false });
}

describe("agent --replay of recorded steps", () => {
  it("runs every step again, kills the helper it started itself and judges the checks: exit 0", async () => {
    const r = await replay(stepFile);
    expect(r.stdout).toMatch(/^pcshare-step \d+ > .*"op":"spawn"/m);
    expect(r.stdout).toMatch(/^pcshare-step \d+ < .*"reaped":true/m); // the new sleep's pid, not the recorded one
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: open of a missing file$/m);
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: bytes of data\.bin$/m);
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: one file mapped twice shares its frames$/m);
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: two files share none$/m);
    expect(r.stdout).toMatch(/^pcshare-replay: done: 7 steps, 0 checks failed$/m);
    expect(r.exitCode).toBe(0);
  });

  it("reports a check that no longer holds with both values: exit 1", async () => {
    await writeFile(data, "changed bytes\n");
    const r = await replay(stepFile);
    expect(r.stdout).toMatch(/^pcshare-check \d+ FAIL: bytes of data\.bin: expected [0-9a-f]{16}, seen [0-9a-f]{16}$/m);
    expect(r.stdout).toMatch(/^pcshare-replay: done: 7 steps, 1 checks failed$/m);
    expect(r.exitCode).toBe(1);
  });

  it("judges whether a read of mountinfo lists an option for the topmost mount at a directory", async () => {
    const mountinfo = path.join(dir, "mountinfo");
    await writeFile(
      mountinfo,
      [
        "30 1 0:5 / /mnt/a-1 ro,relatime shared:1 - erofs /dev/vda ro,user_xattr,acl",
        "31 1 0:5 / /mnt/b-2 ro,relatime shared:2 - erofs /dev/vdb ro,user_xattr,acl,inode_share",
        "32 30 0:5 / /mnt/a-1 ro,relatime shared:3 - erofs /dev/vda ro,user_xattr,acl,inode_share=x",
        "",
      ].join("\n"),
    );
    const step = (id: number, dirAt: string, listed: string) =>
      JSON.stringify({ id, op: "read_file", path: mountinfo, _expect: [{ check: `lists at ${dirAt}`, mountinfo: dirAt, option: "inode_share", listed }] });
    const file = path.join(dir, "mountinfo.jsonl");
    await writeFile(file, `${[step(1, "/mnt/b-2", "listed"), step(2, "/mnt/a-1", "not listed"), step(3, "/mnt/c-3", "not listed")].join("\n")}\n`);
    const r = await replay(file);
    expect(r.stdout).toMatch(/^pcshare-check 1 ok: lists at \/mnt\/b-2$/m);
    expect(r.stdout).toMatch(/^pcshare-check 2 FAIL: lists at \/mnt\/a-1: expected not listed, seen listed$/m); // the topmost mount (line 3) counts
    expect(r.stdout).toMatch(/^pcshare-check 3 FAIL: lists at \/mnt\/c-3: expected not listed, seen mount not in mountinfo$/m);
    expect(r.exitCode).toBe(1);
  });

  it("exits 2 on a step file it cannot read", async () => {
    const r = await replay(path.join(dir, "nothing.jsonl"));
    expect(r.stdout).toMatch(/^pcshare-replay: cannot open .*nothing\.jsonl/m);
    expect(r.exitCode).toBe(2);
  });
});
