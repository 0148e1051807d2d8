// Every agent op, run for real against host files through AgentClient over the agent's --stdio.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { constants, closeSync, fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AgentClient, AgentError, pathsDigest } from "../../harness/guest/agent-client.ts";
import { AGENT_EXEC_OUTPUT_CAP, AGENT_PROTOCOL_VERSION } from "../../harness/guest/protocol.ts";
import { xxh64Hex } from "../../harness/util/hash.ts";
import { scratchDir, startClient, type SpawnedAgent, remoteError } from "./agent-harness.ts";

const PAGE = 4096;
let client: AgentClient;
let agent: SpawnedAgent;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ client, ...agent } = await startClient());
  ({ dir, cleanup } = await scratchDir());
});

afterAll(async () => {
  client?.close();
  await cleanup?.();
});

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Write a file and push it to disk so that fadvise(DONTNEED) can really drop it. */
function writeDurable(file: string, data: Uint8Array): void {
  const fd = openSync(file, "w");
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}


function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = os.release().split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

describe("hello", () => {
  it("reports protocol version, name, kernel release and uptime", async () => {
    const h = await client.hello();
    expect(h.version).toBe(AGENT_PROTOCOL_VERSION);
    expect(h.agent).toBe("pcshare-agent");
    expect(h.kernel_release).toBe(os.release());
    expect(Math.abs(h.uptime_ms - os.uptime() * 1000)).toBeLessThan(5000);
  });
});

describe("exec", () => {
  it("captures stdout, stderr and the exit code, resolving argv[0] through PATH", async () => {
    const r = await client.exec(["sh", "-c", "echo out; echo err >&2; exit 7"], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 7, signal: null, timedOut: false, stdout: "out\n", stderr: "err\n" });
    expect(r.stdoutBytes.equals(Buffer.from("out\n"))).toBe(true);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("feeds binary stdin and returns binary stdout intact", async () => {
    const data = randomBytes(300_000);
    const r = await client.exec(["cat"], { timeoutMs: 10_000, stdin: data });
    expect(r.exitCode).toBe(0);
    expect(r.stdoutBytes.equals(data)).toBe(true);
  });

  it("applies env and cwd", async () => {
    const r = await client.exec(["sh", "-c", 'printf "%s|" "$PCS_X"; pwd'], {
      timeoutMs: 10_000,
      env: { PCS_X: "a b=c" },
      cwd: dir,
    });
    expect(r.stdout).toBe(`a b=c|${dir}\n`);
  });

  it("reports a terminating signal", async () => {
    const r = await client.exec(["sh", "-c", "kill -TERM $$"], { timeoutMs: 10_000 });
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe(15);
    expect(r.timedOut).toBe(false);
  });

  it("fails with ENOENT for a missing program and ENOENT for a missing cwd", async () => {
    const e = await remoteError(client.exec(["pcshare-no-such-program"], { timeoutMs: 5000 }));
    expect(e.code).toBe("remote");
    expect(e.errname).toBe("ENOENT");
    const e2 = await remoteError(client.exec(["true"], { timeoutMs: 5000, cwd: path.join(dir, "nope") }));
    expect(e2.errname).toBe("ENOENT");
  });

  it("reads large stdout and stderr concurrently and caps each at 4 MiB", async () => {
    const r = await client.exec(
      ["sh", "-c", "head -c 3000000 /dev/zero >&2; head -c 5000000 /dev/zero; head -c 1000 /dev/zero >&2"],
      { timeoutMs: 30_000 },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stderrBytes.length).toBe(3_001_000);
    expect(r.stderrTruncated).toBe(false);
    expect(r.stdoutBytes.length).toBe(AGENT_EXEC_OUTPUT_CAP);
    expect(r.stdoutTruncated).toBe(true);
  });

  it("kills the whole process group on timeout", async () => {
    const started = Date.now();
    const r = await client.exec(["sh", "-c", "sleep 60 & echo $!; sleep 60"], { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe(9);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.durationMs).toBeGreaterThanOrEqual(500);
    const bg = Number(r.stdout.trim());
    expect(bg).toBeGreaterThan(1);
    // The background sleep was in the group: it must be gone (or a zombie awaiting its reaper).
    let state = "";
    for (let i = 0; i < 40; i++) {
      try {
        state = readFileSync(`/proc/${bg}/stat`, "utf8").replace(/^.*\) /, "")[0];
      } catch {
        state = "gone";
      }
      if (state === "gone" || state === "Z") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(["gone", "Z"]).toContain(state);
  });
});

describe("read_file / write_file", () => {
  it("writes, appends and reads back binary data", async () => {
    const f = path.join(dir, "rw.bin");
    const a = randomBytes(1000);
    const b = randomBytes(333);
    expect(await client.writeFile(f, a)).toBe(1000);
    expect(await client.writeFile(f, b, { append: true })).toBe(333);
    expect((await readFile(f)).equals(Buffer.concat([a, b]))).toBe(true);
    const r = await client.readFile(f);
    expect(r.truncated).toBe(false);
    expect(r.data.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it("truncates at max_bytes and says so", async () => {
    const f = path.join(dir, "max.txt");
    await writeFile(f, "0123456789");
    const r = await client.readFile(f, { maxBytes: 4 });
    expect(r.data.toString()).toBe("0123");
    expect(r.truncated).toBe(true);
    const exact = await client.readFile(f, { maxBytes: 10 });
    expect(exact.truncated).toBe(false);
    expect(exact.data.toString()).toBe("0123456789");
  });

  it("reads procfs files (size 0 in stat)", async () => {
    const r = await client.readFile("/proc/version");
    expect(r.data.toString()).toBe(readFileSync("/proc/version", "utf8"));
  });

  it("writes payloads above the line limit in chunks", async () => {
    const f = path.join(dir, "big.bin");
    const data = randomBytes(1_500_000);
    expect(await client.writeFile(f, data)).toBe(data.length);
    expect(sha256(await readFile(f))).toBe(sha256(data));
  });

  it("writes to /proc in one write(2) and surfaces kernel errors", async () => {
    // /proc/self/comm of the agent itself: a write replaces the name.
    expect(await client.writeFile("/proc/self/comm", "pcs-renamed")).toBe(11);
    expect((await client.readFile("/proc/self/comm")).data.toString()).toBe("pcs-renamed\n");
    // drop_caches has a minimum of 1: "0" is rejected by the kernel without side effects.
    const e = await remoteError(client.writeFile("/proc/sys/vm/drop_caches", "0"));
    expect(e.errname).toBe("EINVAL");
    expect(e.errno).toBe(22);
  });

  it("reports ENOENT with errno for a missing file", async () => {
    const e = await remoteError(client.readFile(path.join(dir, "missing")));
    expect(e).toMatchObject({ code: "remote", op: "read_file", errno: 2, errname: "ENOENT" });
  });
});

describe("read_hash", () => {
  it("matches the host's XXH64 (@node-rs/xxhash) for several block sizes", async () => {
    const f = path.join(dir, "hash.bin");
    const data = randomBytes(3 * 1024 * 1024 + 123);
    await writeFile(f, data);
    const want = xxh64Hex(data);
    for (const blockSize of [undefined, 4096, 1000, 1]) {
      const file = blockSize === 1 ? path.join(dir, "hash-small.bin") : f;
      if (blockSize === 1) await writeFile(file, data.subarray(0, 5000));
      const r = await client.readHash(file, { blockSize });
      expect(r.xxh64).toBe(blockSize === 1 ? xxh64Hex(data.subarray(0, 5000)) : want);
      expect(r.size).toBe(blockSize === 1 ? 5000 : data.length);
    }
  });

  it("gives the host's XXH64 for every length from 0 to 100 bytes (each tail of a 32-byte stripe)", async () => {
    const data = randomBytes(100);
    const paths: string[] = [];
    for (let n = 0; n <= 100; n++) {
      paths.push(path.join(dir, `len-${n}`));
      await writeFile(paths[n], data.subarray(0, n));
    }
    const r = await client.hashFiles(paths);
    expect(r.files).toEqual(paths.map((_, n) => ({ size: n, xxh64: xxh64Hex(data.subarray(0, n)) })));
  });

  it("hashes an empty file", async () => {
    const f = path.join(dir, "empty");
    await writeFile(f, "");
    expect(await client.readHash(f)).toMatchObject({
      size: 0,
      xxh64: "ef46db3751d8e999", // XXH64 of no bytes (xxHash's own test vector)
    });
  });
});

describe("hash_files", () => {
  // The names that text tools get wrong: a newline (sha256sum prints it raw, splitting its output
  // line), a backslash, quotes, spaces, a leading dash, non-ASCII and astral characters, a 255-byte
  // name, and a path of a few KiB through 14 directories.
  const NAMES = ["line\nbreak", "back\\slash", "q\"uote's", " lead and trail ", "-n", "café 日本語", "emoji-😀", "x".repeat(255)];
  const DEEP = Array.from({ length: 14 }, (_, i) => `d${i}-${"é".repeat(60)}`).join("/");

  it("hashes every file in request order, whatever its name, with an errno per file it cannot read", async () => {
    const base = path.join(dir, "names");
    await mkdir(path.join(base, DEEP), { recursive: true });
    const want: { path: string; sha: string | null; size: number }[] = [];
    for (const [i, n] of NAMES.entries()) {
      for (const p of [path.join(base, n), path.join(base, DEEP, n)]) {
        const data = randomBytes(1000 + i * 5000);
        await writeFile(p, data);
        want.push({ path: p, sha: xxh64Hex(data), size: data.length });
      }
    }
    want.splice(3, 0, { path: path.join(base, "missing"), sha: null, size: 0 });
    want.splice(6, 0, { path: base, sha: null, size: 0 }); // a directory: open works, read(2) fails
    expect(Buffer.byteLength(want[want.length - 1].path)).toBeGreaterThan(1500);
    const r = await client.hashFiles(want.map((w) => w.path));
    expect(r.files).toHaveLength(want.length);
    r.files.forEach((f, i) => {
      if (want[i].sha) expect(f, want[i].path).toEqual({ size: want[i].size, xxh64: want[i].sha });
    });
    expect(r.files[3]).toEqual({ error: "open", errno: os.constants.errno.ENOENT, errname: "ENOENT" });
    expect(r.files[6]).toMatchObject({ error: "read", errname: "EISDIR" });
    expect(r.paths_xxh64).toBe(pathsDigest(want.map((w) => w.path)));
  });

  it("refuses a list that does not match its digest, and more than 4096 paths", async () => {
    const f = path.join(dir, "one");
    await writeFile(f, "x");
    const err = await client.call("hash_files", { paths: [f], paths_xxh64: pathsDigest([`${f}2`]) }).catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.message).toMatch(/the paths arrived altered \(XXH64 of the list received [0-9a-f]{16}, sent [0-9a-f]{16}\)/);
    await expect(client.hashFiles(Array(4097).fill(f))).rejects.toThrow(/at most 4096 paths/);
    expect((await client.hashFiles([f, f])).files).toHaveLength(2);
  });
});

describe("page cache ops", () => {
  it("page_frames: every page present, stable PFNs across calls, equal PFNs for the same file", async () => {
    const f = path.join(dir, "frames.bin");
    const size = 10 * PAGE + 100;
    writeDurable(f, randomBytes(size));
    const [first] = await client.pageFrames([f]);
    expect(first).toMatchObject({ path: f, size, pages: 11, present: 11 });
    expect(first.pfns).toHaveLength(11);
    for (const pfn of first.pfns) expect(pfn).toBeGreaterThan(0); // root: real PFNs
    expect(new Set(first.pfns).size).toBe(11);

    const [again, sameFile] = await client.pageFrames([f, f]);
    expect(again.pfns).toEqual(first.pfns);
    expect(sameFile.pfns).toEqual(first.pfns);

    const [window] = await client.pageFrames([f], { offset: 2 * PAGE, length: 3 * PAGE });
    expect(window.pages).toBe(3);
    expect(window.pfns).toEqual(first.pfns.slice(2, 5));
  });

  it("page_frames: different files have disjoint frames; empty file has no pages", async () => {
    const a = path.join(dir, "pa.bin");
    const b = path.join(dir, "pb.bin");
    const e = path.join(dir, "pe.bin");
    await writeFile(a, randomBytes(4 * PAGE));
    await writeFile(b, randomBytes(4 * PAGE));
    await writeFile(e, "");
    const [fa, fb, fe] = await client.pageFrames([a, b, e]);
    expect(fa.pfns.filter((p) => fb.pfns.includes(p))).toEqual([]);
    expect(fe).toMatchObject({ size: 0, pages: 0, present: 0, pfns: [] });
  });

  it("page_frames fails as a whole on a missing file", async () => {
    const err = await remoteError(client.pageFrames([path.join(dir, "missing")]));
    expect(err.errname).toBe("ENOENT");
  });

  it("mincore and cachestat follow fadvise(DONTNEED) / read on a disk filesystem", async () => {
    const f = path.join(dir, "evict.bin");
    const pages = 64;
    writeDurable(f, randomBytes(pages * PAGE));
    await client.readHash(f); // populate the cache
    const before = await client.mincore(f);
    expect(before).toEqual({ pages, resident: pages });

    await client.fadvise(f, "dontneed");
    const after = await client.mincore(f);
    expect(after.pages).toBe(pages);
    expect(after.resident).toBeLessThan(before.resident);

    const partial = await client.mincore(f, { offset: 8 * PAGE, length: 8 * PAGE });
    expect(partial.pages).toBe(8);

    if (kernelAtLeast(6, 5)) {
      const cs = await client.cachestat(f);
      expect(cs.cache).toBe(after.resident);
      expect(cs.dirty).toBe(0);
      await client.readHash(f);
      const cs2 = await client.cachestat(f);
      expect(cs2.cache).toBe(pages);
      const win = await client.cachestat(f, { offset: 0, length: 4 * PAGE });
      expect(win.cache).toBe(4);
      expect(typeof win.recently_evicted).toBe("number");
    } else {
      const e = await remoteError(client.cachestat(f));
      expect(e.errname).toBe("ENOSYS");
    }
  });

  it("fadvise willneed brings pages in; unknown advice is rejected", async () => {
    const f = path.join(dir, "willneed.bin");
    writeDurable(f, randomBytes(16 * PAGE));
    await client.fadvise(f, "dontneed");
    await client.fadvise(f, "willneed");
    let resident = 0;
    for (let i = 0; i < 50 && resident < 16; i++) {
      resident = (await client.mincore(f)).resident;
      if (resident < 16) await new Promise((r) => setTimeout(r, 20));
    }
    expect(resident).toBe(16);
    const e = await remoteError(client.call("fadvise", { path: f, advice: "bogus" as never }));
    expect(e.message).toContain("unknown advice");
    expect(e.errno).toBeUndefined();
  });
});

describe("open_probe", () => {
  function nodeOpens(file: string, flags: number): string {
    try {
      closeSync(openSync(file, flags));
      return "ok";
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? "?";
    }
  }

  async function agentOpens(file: string, flags: Parameters<AgentClient["openProbe"]>[1]): Promise<string> {
    try {
      await client.openProbe(file, flags);
      return "ok";
    } catch (err) {
      return (err as AgentError).errname ?? "?";
    }
  }

  it("O_DIRECT agrees with a Node attempt on disk and on tmpfs", async () => {
    const onDisk = path.join(dir, "direct.bin");
    await writeFile(onDisk, randomBytes(PAGE));
    const onTmpfs = "/dev/shm/pcshare-agent-direct";
    writeFileSync(onTmpfs, "x");
    try {
      for (const f of [onDisk, onTmpfs]) {
        expect(await agentOpens(f, ["O_RDONLY", "O_DIRECT"])).toBe(nodeOpens(f, constants.O_RDONLY | constants.O_DIRECT));
      }
    } finally {
      await rm(onTmpfs, { force: true });
    }
  });

  it("reports open errors by name and rejects unknown flags", async () => {
    const f = path.join(dir, "plain");
    await writeFile(f, "x");
    expect(await agentOpens(f, ["O_RDONLY", "O_NOATIME"])).toBe("ok");
    expect(await agentOpens(f, ["O_PATH"])).toBe("ok");
    expect(await agentOpens(f, ["O_RDONLY", "O_DIRECTORY"])).toBe("ENOTDIR");
    expect(await agentOpens(path.join(dir, "none"), ["O_RDONLY"])).toBe("ENOENT");
    const e = await remoteError(client.openProbe(f, ["O_BOGUS" as never]));
    expect(e.message).toContain("O_BOGUS");
  });
});

describe("mount / umount", () => {
  function mountLine(target: string): string | undefined {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .find((l) => l.split(" ")[4] === target);
  }

  it("mounts with flags and a raw data string into a fresh directory, then unmounts", async () => {
    const target = path.join(dir, "mnt", "deep", "t");
    await client.mount({ source: "pcs-test", target, fstype: "tmpfs", flags: ["nosuid", "nodev"], data: "size=1m,mode=0711" });
    try {
      const line = mountLine(target);
      expect(line).toBeDefined();
      expect(line).toMatch(/ - tmpfs pcs-test /);
      expect(line).toMatch(/size=1024k/);
      expect(line).toMatch(/mode=711/);
      expect(line!.split(" ")[5]).toContain("nosuid");

      await client.mount({ target, flags: ["remount", "ro"] });
      const e = await remoteError(client.writeFile(path.join(target, "x"), "y"));
      expect(e.errname).toBe("EROFS");
    } finally {
      await client.umount(target, ["detach"]);
    }
    expect(mountLine(target)).toBeUndefined();
  });

  it("passes kernel errors through (unknown fstype, umount of a non-mountpoint)", async () => {
    const e = await remoteError(client.mount({ source: "x", target: path.join(dir, "m2"), fstype: "pcs-nofs" }));
    expect(e.errname).toBe("ENODEV");
    const e2 = await remoteError(client.umount(dir));
    expect(e2.errname).toBe("EINVAL");
  });
});

describe("meminfo, kmsg, sync", () => {
  it("meminfo parses /proc/meminfo", async () => {
    const m = await client.meminfo();
    expect(m.MemTotal * 1024).toBe(os.totalmem());
    expect(Number.isInteger(m.Cached)).toBe(true);
    expect(Number.isInteger(m.HugePages_Total)).toBe(true);
    const text = readFileSync("/proc/meminfo", "utf8");
    expect(Object.keys(m).length).toBe(text.trim().split("\n").length);
  });

  it("kmsg returns only records newer than the previous call", async () => {
    const first = await client.kmsg();
    expect(first.length).toBeGreaterThan(0);
    for (let i = 1; i < first.length; i++) expect(first[i].seq).toBeGreaterThan(first[i - 1].seq);
    const marker = `pcshare-agent-test-${process.pid}-${Date.now()}`;
    writeFileSync("/dev/kmsg", `<4>${marker}\n`);
    const second = await client.kmsg();
    const hit = second.find((r) => r.text === marker);
    expect(hit).toBeDefined();
    expect(hit!.level).toBe(4);
    expect(hit!.ts_us).toBeGreaterThan(0);
    for (const r of second) expect(r.seq).toBeGreaterThan(first[first.length - 1].seq);
    const third = await client.kmsg();
    expect(third.find((r) => r.text === marker)).toBeUndefined();
  });

  it("sync succeeds", async () => {
    await expect(client.sync()).resolves.toBeUndefined();
  });
});

describe("lifecycle", () => {
  it("poweroff replies and then the --stdio agent exits 0", async () => {
    const { client: c, exited } = await startClient();
    await c.poweroff();
    expect(await exited).toEqual({ code: 0, signal: null });
    await expect(c.hello()).rejects.toMatchObject({ code: "closed" });
  });

  it("exits 0 on stdin EOF", async () => {
    const { client: c, exited } = await startClient();
    await c.hello();
    c.close();
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
