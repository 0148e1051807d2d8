// Owns: tests of the deterministic generators (harness/images/generate.ts): pinned output hashes for
// given seeds (same bytes on any machine), equal trees from two runs, real holes in sparse files.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contentChunks, keystream, writeTree } from "../../harness/images/generate.ts";
import { scanTree } from "../../harness/images/manifest.ts";
import type { Content, Entry } from "../../harness/images/spec.ts";

const hash = (c: Content) => {
  const h = createHash("sha256");
  for (const b of contentChunks(c)) h.update(b);
  return h.digest("hex");
};
const dirs: string[] = [];
const fresh = async () => {
  const d = await mkdtemp(path.join(tmpdir(), "pcshare-gen-test-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("generators", () => {
  it("give pinned bytes for a seed", () => {
    expect(hash({ gen: "random", size: 3_000_000, seed: 1 })).toBe("de95879e6d11dc0a186cb44fc711c361bb778f4ebb02a612e33aef40dbc9ec49");
    expect(hash({ gen: "text", size: 100_000, seed: 2 })).toBe("8b41f756e92f9afc2ee1a953eb615a87bbc987b886c2cce688f7c108323f564f");
    expect(hash({ gen: "sparse", size: 1 << 20, seed: 3, holes: [{ at: 4096, size: 65536 }] })).toBe(
      "e6831861fa1e5be883eaf815aaee741f620861226fd125eec915a08ed1e8840c",
    );
    expect(hash({ gen: "random", size: 3_000_000, seed: 2 })).not.toBe(hash({ gen: "random", size: 3_000_000, seed: 1 }));
  });

  it("keystream at an offset equals the same bytes of the whole stream", () => {
    const whole = Buffer.concat([...keystream("x", 0, 5000)]);
    const part = Buffer.concat([...keystream("x", 1234, 777)]);
    expect(part.equals(whole.subarray(1234, 1234 + 777))).toBe(true);
  });

  it("text is exactly the requested size and compressible-looking", () => {
    const t = Buffer.concat([...contentChunks({ gen: "text", size: 12345, seed: 9 })]);
    expect(t.length).toBe(12345);
    expect(t.toString("latin1")).toMatch(/^[a-z .\n]+$/);
  });

  const entries: Entry[] = [
    { kind: "file", path: "/a/random.bin", content: { gen: "random", size: 2_500_000, seed: 5 } },
    { kind: "file", path: "/t.txt", content: { gen: "text", size: 5000, seed: 6 } },
    { kind: "file", path: "/sparse.bin", content: { gen: "sparse", size: 8 << 20, seed: 7, holes: [{ at: 1 << 20, size: 6 << 20 }] } },
    { kind: "file", path: "/empty", content: { gen: "empty" } },
    { kind: "hardlink", path: "/a/link", target: "/a/random.bin" },
    { kind: "symlink", path: "/sym", target: "a/random.bin" },
    { kind: "deep-dirs", path: "/deep", depth: 12, size: 10, seed: 8 },
    { kind: "many-files", path: "/many", count: 30, size: 100, seed: 9, content: "random", perDir: 8 },
  ];

  it("two runs write identical trees", async () => {
    const [a, b] = [await fresh(), await fresh()];
    await writeTree(a, entries);
    await writeTree(b, [...entries].reverse());
    const sa = await scanTree(a, true);
    const sb = await scanTree(b, true);
    expect(sa).toEqual(sb);
    expect(sa.filter((f) => f.path.startsWith("/many/")).filter((f) => f.type === "file")).toHaveLength(30);
    expect(sa.find((f) => f.path === "/a/random.bin")).toMatchObject({ linkOf: "/a/link" });
    expect(sa.find((f) => f.path === "/deep/d001/d002/d003/d004/d005/d006/d007/d008/d009/d010/d011/d012/leaf.txt")?.size).toBe(10);
    const digest = createHash("sha256").update(await readFile(path.join(a, "a/random.bin"))).digest("hex");
    expect(sa.find((f) => f.path === "/a/random.bin")?.sha256).toBe(digest);
  });

  it("sparse files have real holes and the same bytes as the chunk stream", async () => {
    const d = await fresh();
    await writeTree(d, [entries[2]]);
    const st = await stat(path.join(d, "sparse.bin"));
    expect(st.size).toBe(8 << 20);
    expect(st.blocks * 512).toBeLessThan(3 << 20);
    const bytes = await readFile(path.join(d, "sparse.bin"));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash(entries[2].kind === "file" ? entries[2].content : { gen: "empty" }));
  });
});
