// `pcshare kcidb submit` through the CLI against a local HTTP endpoint started by the test (a stand-in
// for a KCIDB REST server, which cannot be reached from here): it receives on /submit, with the bearer
// token, exactly the document --dry-run prints; a refusal is exit 1 naming the status; a missing
// variable is named. The merged document of several runs keeps the v5.3 rules.
import { execa } from "execa";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults } from "../../harness/report/index.ts";
import { kcidbEndpoint, kcidbPayload } from "../../harness/report/kcidb-submit.ts";
import { applyKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { kcidbViolations } from "./kcidb-schema.ts";

const PCSHARE = path.resolve("bin/pcshare");
const RUN = path.resolve("test/fixtures/runs/source-7.2.13-l1-l3-d2-o3.json");

interface Received {
  method?: string;
  url?: string;
  auth?: string;
  type?: string;
  body: string;
}
const received: Received[] = [];
let answer = 200;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers["content-type"], body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answer, { "Content-Type": "text/plain" }).end(answer === 200 ? "ok" : "token\nrejected");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const pcshare = (argv: string[], env: Record<string, string>) =>
  execa(PCSHARE, argv, { reject: false, stdin: "ignore", env: { PCSHARE_QUIET: "1", ...env }, extendEnv: false });

describe("kcidb submit", () => {
  it("POSTs to <url>/submit with the bearer token exactly the document --dry-run prints", async () => {
    const dry = await pcshare(["kcidb", "submit", RUN, "--dry-run"], { PATH: process.env.PATH! });
    expect(dry.exitCode).toBe(0);
    const printed = JSON.parse(dry.stdout);
    expect(printed.version).toEqual({ major: 5, minor: 3 });
    expect(kcidbViolations(printed)).toEqual([]);
    const r = await pcshare(["kcidb", "submit", RUN], { PATH: process.env.PATH!, PCSHARE_KCIDB_URL: base, PCSHARE_KCIDB_TOKEN: "s3cret" });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("(HTTP 200): 1 checkout(s), 1 build(s), 4 test(s)");
    const got = received.at(-1)!;
    expect([got.method, got.url, got.auth, got.type]).toEqual(["POST", "/api/submit", "Bearer s3cret", "application/json"]);
    expect(JSON.parse(got.body)).toEqual(printed);
  });

  it("exits 1 naming the HTTP status and the answer when the endpoint refuses", async () => {
    answer = 403;
    const r = await pcshare(["kcidb", "submit", RUN], { PATH: process.env.PATH!, PCSHARE_KCIDB_URL: base, PCSHARE_KCIDB_TOKEN: "wrong" });
    answer = 200;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`pcshare: KCIDB submit to ${base}submit: HTTP 403 Forbidden: token rejected; check PCSHARE_KCIDB_TOKEN`);
  });

  it("names the variable that is not set, and sends nothing", async () => {
    const n = received.length;
    const noUrl = await pcshare(["kcidb", "submit", RUN], { PATH: process.env.PATH!, PCSHARE_KCIDB_TOKEN: "t" });
    expect(noUrl.exitCode).not.toBe(0);
    expect(noUrl.stderr).toContain("PCSHARE_KCIDB_URL is not set");
    expect(() => kcidbEndpoint({ PCSHARE_KCIDB_URL: base })).toThrow(/^PCSHARE_KCIDB_TOKEN is not set/);
    expect(received.length).toBe(n);
  });

  it("joins several runs into one v5.3 document, each object once", async () => {
    const bugs = await loadKnownBugs();
    const a = applyKnownBugs(await readResults(RUN), bugs);
    const b = { ...a, startedAt: "2026-01-01T00:00:00.000Z" };
    const doc = kcidbPayload([a, a, b]) as Record<string, { id: string }[]>;
    expect(kcidbViolations(doc)).toEqual([]);
    expect(doc.checkouts).toHaveLength(1);
    expect(doc.builds).toHaveLength(1);
    expect(doc.tests).toHaveLength(2 * a.cases.length); // the second start time makes new test ids
    expect(doc.issues.length).toBe((a.knownBugs ?? []).length);
    expect(new Set(doc.tests.map((t) => t.id)).size).toBe(doc.tests.length);
  });
});
