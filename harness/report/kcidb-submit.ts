// Sending KCIDB I/O data to a KCIDB REST endpoint: `<url>/submit` takes the JSON document (schema 5.3,
// see kcidb.ts) in a POST with `Authorization: Bearer <token>`. URL and token come from the environment
// (PCSHARE_KCIDB_URL, PCSHARE_KCIDB_TOKEN) so no secret lands on a command line or in a file.
import type { RunResult } from "./model.ts";
import { KCIDB_VERSION, toKcidb, type KcidbOptions } from "./kcidb.ts";

export const KCIDB_URL_VAR = "PCSHARE_KCIDB_URL";
export const KCIDB_TOKEN_VAR = "PCSHARE_KCIDB_TOKEN";

export interface KcidbEndpoint {
  /** The submission URL: the base URL with /submit appended. */
  url: string;
  token: string;
}

/** Where to submit, from the environment; throws naming the variable that is missing or wrong. */
export function kcidbEndpoint(env: NodeJS.ProcessEnv = process.env): KcidbEndpoint {
  const base = env[KCIDB_URL_VAR];
  const token = env[KCIDB_TOKEN_VAR];
  if (!base) throw new Error(`${KCIDB_URL_VAR} is not set: export the KCIDB REST base URL (the submission goes to <url>/submit), or use --dry-run`);
  if (!/^https?:\/\/[^\s/]+/.test(base)) throw new Error(`${KCIDB_URL_VAR}=${base}: not an http(s) URL; give the KCIDB REST base URL, e.g. https://kcidb.example.org`);
  if (!token) throw new Error(`${KCIDB_TOKEN_VAR} is not set: export the bearer token the KCIDB endpoint gave you, or use --dry-run`);
  return { url: `${base.replace(/\/+$/, "")}/submit`, token };
}

type Doc = Record<string, unknown>;
const SECTIONS = ["checkouts", "builds", "tests", "issues", "incidents"] as const;

/** One KCIDB document for several runs: their objects side by side, each id (and issue version) once. */
export function kcidbPayload(runs: RunResult[], opts: KcidbOptions = {}): Doc {
  const docs = runs.map((r) => toKcidb(r, opts));
  const out: Doc = { version: { ...KCIDB_VERSION } };
  for (const section of SECTIONS) {
    const seen = new Set<string>();
    out[section] = docs.flatMap((d) => (d[section] as Doc[] | undefined) ?? []).filter((o) => {
      const key = `${o.id}\0${o.version ?? ""}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return out;
}

/** POSTs the document; resolves with the HTTP status, throws a one-line error on a non-2xx answer or no answer. */
export async function submitKcidb(payload: Doc, endpoint: KcidbEndpoint, timeoutMs = 60_000): Promise<number> {
  let res: Response;
  try {
    res = await fetch(endpoint.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${endpoint.token}` },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(`KCIDB submit to ${endpoint.url}: no answer (${cause}); check ${KCIDB_URL_VAR} and the network`);
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => "")).replace(/\s+/g, " ").trim().slice(0, 300);
    throw new Error(`KCIDB submit to ${endpoint.url}: HTTP ${res.status} ${res.statusText}${body ? `: ${body}` : ""}${res.status === 401 || res.status === 403 ? `; check ${KCIDB_TOKEN_VAR}` : ""}`);
  }
  return res.status;
}
