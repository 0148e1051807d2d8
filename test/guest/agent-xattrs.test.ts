// The agent's xattrs op, run for real against host files through AgentClient over the agent's --stdio:
// every listed name with its value byte for byte (binary, empty, 65535 bytes on tmpfs), getxattr of
// names asked for (listed or not), and a missing path failing with its errno. The values are set with
// @napi-rs/xattr, independently of the agent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { statfsSync } from "node:fs";
import path from "node:path";
import { setAttributeSync } from "@napi-rs/xattr";
import type { AgentClient } from "../../harness/guest/agent-client.ts";
import { remoteError, startClient } from "./agent-harness.ts";

let client: AgentClient;
let dir: string;
const TMPFS = 0x01021994;
const onTmpfs = (() => {
  try {
    return statfsSync("/dev/shm").type === TMPFS;
  } catch {
    return false;
  }
})();
const big = Buffer.alloc(65535);
for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;

beforeAll(async () => {
  ({ client } = await startClient());
  dir = await mkdtemp(path.join(onTmpfs ? "/dev/shm" : "/tmp", "pcshare-agent-xattrs-"));
});
afterAll(async () => {
  client?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("xattrs op", () => {
  it("lists every xattr with its exact value and reads the names asked for", async () => {
    const f = path.join(dir, "f");
    await writeFile(f, "x");
    setAttributeSync(f, "user.bin", Buffer.from([0, 0xff, 0, 10]));
    setAttributeSync(f, "user.empty", Buffer.alloc(0));
    setAttributeSync(f, "trusted.t", Buffer.from("héllo"));
    if (onTmpfs) setAttributeSync(f, "user.big", big);
    const r = await client.xattrs(f, ["user.bin", "user.none", "erofs.fingerprint.v1"]);
    const listed = new Map(r.listed.map((x) => [x.name, x.value?.toString("hex")]));
    expect(listed.get("user.bin")).toBe("00ff000a");
    expect(listed.get("user.empty")).toBe("");
    expect(listed.get("trusted.t")).toBe(Buffer.from("héllo").toString("hex"));
    if (onTmpfs) expect(listed.get("user.big")).toBe(big.toString("hex"));
    expect(r.listed).toHaveLength(onTmpfs ? 4 : 3);
    expect(r.asked.map((x) => [x.name, x.value?.toString("hex") ?? null, x.errname])).toEqual([
      ["user.bin", "00ff000a", null],
      ["user.none", null, "ENODATA"],
      ["erofs.fingerprint.v1", null, "EOPNOTSUPP"],
    ]);
  });

  it("fails with the errno of llistxattr on a missing path", async () => {
    const e = await remoteError(client.xattrs(path.join(dir, "missing")));
    expect(e.errname).toBe("ENOENT");
  });
});
