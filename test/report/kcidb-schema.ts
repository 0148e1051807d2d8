// The rules of kcidb-io's schema v5.3 (kcidb_io/schema/v05_03.py) that pcshare's KCIDB output relies
// on, encoded by hand since kcidb-io cannot be installed here: fields allowed and required per object,
// id/origin/path patterns, status values, types, nulls. Shared by the reporter and submit tests.
type Node = Record<string, any>;

// --- kcidb-io v5.3, as read from kcidb_io/schema/v05_03.py -------------------------------------------
const ID = /^[a-z0-9_]+:[^\0]*$/; // origin_id_pattern
const ORIGIN = /^[a-z0-9_]+$/;
const PATH = /^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$/;
export const STATUS = ["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"];
const NO_NUL = /^[^\0]*$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
type Rule = (v: unknown, at: string) => string | undefined;
const str = (re = NO_NUL): Rule => (v, at) => (typeof v === "string" && re.test(v) ? undefined : `${at}: ${JSON.stringify(v)} does not match ${re}`);
const bool: Rule = (v, at) => (typeof v === "boolean" ? undefined : `${at}: not a boolean`);
const num: Rule = (v, at) => (typeof v === "number" && Number.isFinite(v) ? undefined : `${at}: not a number`);
const uint: Rule = (v, at) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : `${at}: not an integer >= 0`);
const obj: Rule = (v, at) => (v && typeof v === "object" && !Array.isArray(v) ? undefined : `${at}: not an object`);
const uri: Rule = (v, at) => (typeof v === "string" && URL.canParse(v) ? undefined : `${at}: not a URI`);
const dateTime = str(DATE_TIME);
const excerpt: Rule = (v, at) => str()(v, at) ?? ((v as string).length > 16384 ? `${at}: longer than 16384` : undefined);
const status: Rule = (v, at) => (STATUS.includes(v as string) ? undefined : `${at}: status ${JSON.stringify(v)}`);
const resources: Rule = (v, at) =>
  Array.isArray(v) ? v.map((r, i) => shape(r, RESOURCE, `${at}[${i}]`)).find(Boolean) : `${at}: not an array`;
const RESOURCE = { required: ["name", "url"], fields: { name: str(/^[^/\0]+$/), url: uri } };
const objectWith = (s: Shape): Rule => (v, at) => shape(v, s, at);
type Shape = { required: string[]; fields: Record<string, Rule> };
const SCHEMA: Record<string, Shape> = {
  checkout: {
    required: ["id", "origin"],
    fields: {
      id: str(ID), origin: str(ORIGIN), tree_name: str(), git_repository_url: str(/^https:\/\/[^\0]*$/), git_commit_hash: str(/^[0-9a-f]{40}$/),
      git_commit_name: str(), git_repository_branch: str(), patchset_files: resources, patchset_hash: str(/^$|^[0-9a-f]{64}$/), comment: str(),
      start_time: dateTime, log_url: uri, log_excerpt: excerpt, valid: bool, misc: obj,
    },
  },
  build: {
    required: ["checkout_id", "id", "origin"],
    fields: {
      checkout_id: str(ID), id: str(ID), origin: str(ORIGIN), comment: str(), start_time: dateTime, duration: num, architecture: str(/^[a-z0-9_]*$/),
      command: str(), compiler: str(), input_files: resources, output_files: resources, config_name: str(), config_url: uri, log_url: uri,
      log_excerpt: excerpt, status, misc: obj,
    },
  },
  test: {
    required: ["build_id", "id", "origin"],
    fields: {
      build_id: str(ID), id: str(ID), origin: str(ORIGIN),
      environment: objectWith({ required: [], fields: { compatible: (v, at) => (Array.isArray(v) ? undefined : `${at}: not an array`), comment: str(), misc: obj } }),
      path: str(PATH), comment: str(), log_url: uri, log_excerpt: excerpt, status,
      number: objectWith({ required: ["value"], fields: { value: num, unit: str(), prefix: (v, at) => (v === "metric" || v === "binary" ? undefined : `${at}: prefix`) } }),
      start_time: dateTime, duration: num, input_files: resources, output_files: resources, misc: obj,
    },
  },
  issue: {
    required: ["id", "version", "origin"],
    fields: {
      id: str(ID), version: uint, origin: str(ORIGIN), categories: (v, at) => (Array.isArray(v) ? undefined : `${at}: not an array`), report_url: uri, report_subject: str(),
      culprit: objectWith({ required: [], fields: { code: bool, tool: bool, harness: bool } }), comment: str(), misc: obj,
    },
  },
  incident: {
    required: ["id", "origin", "issue_id", "issue_version"],
    fields: { id: str(ID), origin: str(ORIGIN), issue_id: str(ID), issue_version: uint, build_id: str(ID), test_id: str(ID), present: bool, comment: str(), misc: obj },
  },
};

/** First violation of `s` in `v` (additionalProperties: false, required fields, each field's rule). */
function shape(v: unknown, s: Shape, at: string): string | undefined {
  const o = obj(v, at);
  if (o) return o;
  const rec = v as Node;
  for (const r of s.required) if (!(r in rec)) return `${at}: "${r}" is required`;
  for (const [k, x] of Object.entries(rec)) {
    if (!(k in s.fields)) return `${at}: "${k}" is not allowed (additionalProperties: false)`;
    if (x === null) return `${at}.${k}: null is not allowed`;
    const bad = s.fields[k](x, `${at}.${k}`);
    if (bad) return bad;
  }
  return undefined;
}

/** Every violation of the v5.3 document rules the export relies on. */
export function kcidbViolations(data: Node): string[] {
  const out: string[] = [];
  const top = new Set(["version", "checkouts", "builds", "tests", "issues", "incidents"]);
  for (const k of Object.keys(data)) if (!top.has(k)) out.push(`"${k}" is not allowed at the top level`);
  if (data.version?.major !== 5 || !Number.isInteger(data.version?.minor) || data.version.minor < 0 || data.version.minor > 3) out.push(`version ${JSON.stringify(data.version)} is not 5.0-5.3`);
  const lists: [string, string][] = [["checkouts", "checkout"], ["builds", "build"], ["tests", "test"], ["issues", "issue"], ["incidents", "incident"]];
  for (const [list, kind] of lists) {
    if (data[list] === undefined) continue;
    if (!Array.isArray(data[list])) out.push(`${list} is not an array`);
    else data[list].forEach((x: unknown, i: number) => { const bad = shape(x, SCHEMA[kind], `${list}[${i}]`); if (bad) out.push(bad); });
  }
  return out;
}
