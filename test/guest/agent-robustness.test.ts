// Bad input never kills the agent: malformed JSON, unknown ops, missing/mistyped fields, overlong lines;
// JSON corner cases (escapes, nesting, 2^53 ids); AgentClient's timeout/closed errors; warning-free build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { AgentError } from "../../harness/guest/agent-client.ts";
import { AGENT_CFLAGS, agentSources } from "../../harness/guest/build-agent.ts";
import { AGENT_MAX_LINE, AGENT_PROTOCOL_VERSION } from "../../harness/guest/protocol.ts";
import { RawAgent, scratchDir, startClient } from "./agent-harness.ts";

let raw: RawAgent;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  raw = await RawAgent.start();
  ({ dir, cleanup } = await scratchDir());
});

afterAll(async () => {
  await raw?.stop();
  await cleanup?.();
});

/** The agent still answers normally. */
async function alive(): Promise<void> {
  const r = await raw.roundtrip(JSON.stringify({ id: 4242, op: "hello" }));
  expect(r).toMatchObject({ id: 4242, ok: true, version: AGENT_PROTOCOL_VERSION });
}

describe("bad requests get error replies and the agent keeps serving", () => {
  it("malformed JSON: error reply carrying the recoverable id", async () => {
    const r = await raw.roundtrip('{"id": 17, "op": "hello", ');
    expect(r).toMatchObject({ id: 17, ok: false });
    expect(r.error).toMatch(/invalid JSON/);
    await alive();
  });

  it("garbage without an id: error reply with id null", async () => {
    const r = await raw.roundtrip("this is not json");
    expect(r).toMatchObject({ id: null, ok: false });
    await alive();
  });

  it("non-object, missing id, missing op", async () => {
    expect(await raw.roundtrip("[1,2,3]")).toMatchObject({ id: null, ok: false });
    expect(await raw.roundtrip('{"op":"hello"}')).toMatchObject({ id: null, ok: false });
    expect(await raw.roundtrip('{"id":1.5,"op":"hello"}')).toMatchObject({ id: null, ok: false });
    const r = await raw.roundtrip('{"id":3}');
    expect(r).toMatchObject({ id: 3, ok: false });
    expect(r.error).toMatch(/op/);
    await alive();
  });

  it("unknown op", async () => {
    const r = await raw.roundtrip('{"id":5,"op":"format_disk"}');
    expect(r).toMatchObject({ id: 5, ok: false });
    expect(r.error).toContain('unknown op "format_disk"');
    expect(r.errno).toBeUndefined();
  });

  it("missing and mistyped fields", async () => {
    const missing = await raw.roundtrip('{"id":6,"op":"read_file"}');
    expect(missing).toMatchObject({ id: 6, ok: false });
    expect(missing.error).toContain('"path"');
    const mistyped = await raw.roundtrip('{"id":7,"op":"read_file","path":42}');
    expect(mistyped).toMatchObject({ id: 7, ok: false });
    expect(mistyped.error).toMatch(/must be a string/);
    const noTimeout = await raw.roundtrip('{"id":8,"op":"exec","argv":["true"]}');
    expect(noTimeout.error).toContain('"timeout_ms"');
    const badB64 = await raw.roundtrip('{"id":9,"op":"write_file","path":"/dev/null","data_b64":"@@@"}');
    expect(badB64.error).toMatch(/base64/);
    const negative = await raw.roundtrip('{"id":10,"op":"mincore","path":"/etc/hostname","offset":-1}');
    expect(negative.error).toMatch(/negative/);
    const emptyArgv = await raw.roundtrip('{"id":11,"op":"exec","argv":[],"timeout_ms":100}');
    expect(emptyArgv).toMatchObject({ id: 11, ok: false });
    await alive();
  });

  it("a line over 1 MiB is rejected (id recovered) and the next request works", async () => {
    const big = JSON.stringify({ id: 77, op: "write_file", path: "/dev/null", data_b64: "A".repeat(AGENT_MAX_LINE + 10) });
    const r = await raw.roundtrip(big);
    expect(r).toMatchObject({ id: 77, ok: false });
    expect(r.error).toMatch(/too long/);
    await alive();
    // 3 MiB without any newline-free structure at all
    const r2 = await raw.roundtrip("x".repeat(3 * AGENT_MAX_LINE));
    expect(r2).toMatchObject({ id: null, ok: false });
    await alive();
  });

  it("a line just under the limit is accepted", async () => {
    const f = path.join(dir, "near-limit.bin");
    const payload = Buffer.alloc(700 * 1024, 7).toString("base64");
    const line = JSON.stringify({ id: 78, op: "write_file", path: f, data_b64: payload });
    expect(line.length).toBeLessThan(AGENT_MAX_LINE);
    expect(line.length).toBeGreaterThan(AGENT_MAX_LINE * 0.9);
    expect(await raw.roundtrip(line)).toMatchObject({ id: 78, ok: true, bytes: 700 * 1024 });
  });

  it("blank lines are ignored; several requests in one write are answered in order", async () => {
    raw.send('\n  \n{"id":90,"op":"sync"}\n{"id":91,"op":"hello"}\n');
    expect(await raw.next()).toMatchObject({ id: 90, ok: true });
    expect(await raw.next()).toMatchObject({ id: 91, ok: true });
  });

  it("deep nesting is an error, not a crash", async () => {
    const r = await raw.roundtrip(`{"id":12,"op":"hello","x":${"[".repeat(5000)}${"]".repeat(5000)}}`);
    expect(r).toMatchObject({ id: 12, ok: false });
    await alive();
  });
});

describe("JSON details", () => {
  it("decodes string escapes (\\n, \\\", \\\\, \\uXXXX, surrogate pairs) in paths", async () => {
    const name = 'we"ird\\ name\n\tA\u00e9\u{1F600}.txt';
    const f = path.join(dir, name);
    // hand-written escapes, not JSON.stringify's choice
    const escaped = f
      .replace(/\\/g, "\\\\")
      .replace(/"/g, '\\"')
      .replace(/\n/g, "\\n")
      .replace(/\t/g, "\\u0009")
      .replace(/A/g, "\\u0041")
      .replace(/\u00e9/g, "\\u00E9")
      .replace(/\u{1F600}/u, "\\ud83d\\ude00");
    const r = await raw.roundtrip(`{"id":20,"op":"write_file","path":"${escaped}","data_b64":"aGk="}`);
    expect(r).toMatchObject({ id: 20, ok: true, bytes: 2 });
    expect(existsSync(f)).toBe(true);
    expect(readFileSync(f, "utf8")).toBe("hi");
    // and the reply escapes control characters and quotes correctly for JSON.parse
    const rf = await raw.roundtrip(JSON.stringify({ id: 21, op: "page_frames", paths: [f] }));
    expect(rf.files[0].path).toBe(f);
  });

  it("accepts an empty string (an empty mount data string must reach mount(2) as \"\")", async () => {
    const r = await raw.roundtrip('{"id":30,"op":"exec","argv":["printf","%s|","","x"],"timeout_ms":5000}');
    expect(r.ok).toBe(true);
    expect(Buffer.from(r.stdout_b64 as string, "base64").toString()).toBe("|x|");
  });

  it("rejects a NUL byte inside a path", async () => {
    const r = await raw.roundtrip('{"id":22,"op":"read_file","path":"/etc/host\\u0000name"}');
    expect(r).toMatchObject({ id: 22, ok: false });
  });

  it("echoes ids up to 2^53 - 1 exactly and ignores unknown nested members", async () => {
    const id = Number.MAX_SAFE_INTEGER;
    const r = await raw.roundtrip(`{"id":${id},"op":"hello","extra":{"a":[1,-2.5e3,{"b":[]},null,true],"c":"\\u00e9"}}`);
    expect(r).toMatchObject({ id, ok: true });
  });

  it("accepts whitespace around tokens and integral numbers written as 5e2", async () => {
    const f = path.join(dir, "ws.txt");
    writeFileSync(f, "0123456789");
    const r = await raw.roundtrip(` { "id" : 23 , "op" : "read_file" , "path" : ${JSON.stringify(f)} , "max_bytes" : 5e0 } `);
    expect(r).toMatchObject({ id: 23, ok: true, size: 5, truncated: true });
  });
});

describe("AgentClient error codes", () => {
  it("timeout: no reply in time; the late reply is ignored and the client keeps working", async () => {
    const { client } = await startClient();
    try {
      const e = await client.callRaw("exec", { argv: ["sleep", "1"], timeout_ms: 5000 }, { timeoutMs: 100 }).catch((x) => x);
      expect(e).toBeInstanceOf(AgentError);
      expect(e).toMatchObject({ code: "timeout", op: "exec" });
      expect((await client.hello()).version).toBe(AGENT_PROTOCOL_VERSION);
    } finally {
      client.close();
    }
  });

  it("remote: ok:false becomes AgentError with errno", async () => {
    const { client } = await startClient();
    try {
      const e = await client.readFile("/nonexistent/pcshare").catch((x) => x);
      expect(e).toMatchObject({ code: "remote", op: "read_file", errno: 2, errname: "ENOENT" });
      const u = await client.callRaw("nope", {}).catch((x) => x);
      expect(u).toMatchObject({ code: "remote", op: "nope" });
    } finally {
      client.close();
    }
  });

  it("closed: pending calls fail when the agent dies, later calls fail at once", async () => {
    const { client, child } = await startClient();
    const pending = client.exec(["sleep", "30"], { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGKILL");
    await expect(pending).rejects.toMatchObject({ code: "closed", op: "exec" });
    await expect(client.hello()).rejects.toMatchObject({ code: "closed" });
    expect(client.closed).toBe(true);
  });
});

describe("build", () => {
  it("compiles without any warnings", async () => {
    const sources = (await agentSources()).filter((f) => f.endsWith(".c"));
    const r = await execa("gcc", [...AGENT_CFLAGS, "-o", path.join(dir, "agent-warncheck"), ...sources], { all: true });
    expect(r.all).toBe("");
  });
});
