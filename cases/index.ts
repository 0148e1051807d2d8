// Every case of the suite, in catalog order. Each group lives in its own file; adding a case means
// exporting it there (this file collects all exports that are cases).
import type { CaseDef } from "../harness/runner/case.ts";
import * as functional from "./functional.ts";
import * as options from "./options.ts";
import * as differences from "./differences.ts";
import * as memory from "./memory.ts";
import * as scale from "./scale.ts";
import * as integrity from "./integrity.ts";
import * as lifetime from "./lifetime.ts";
import * as isolation from "./isolation.ts";
import * as adversarial from "./adversarial.ts";
import * as xattrs from "./xattrs.ts";
import { loadFoundCases } from "../harness/explore/found.ts";
import { FOUND_DIR } from "./found-dir.ts";
import { DEFAULT_SPECS } from "../harness/images/commands.ts";

function casesOf(mod: Record<string, unknown>): CaseDef[] {
  return Object.values(mod).filter((v): v is CaseDef => typeof v === "object" && v !== null && "run" in v && "id" in v);
}

const GROUP_ORDER = ["F", "I", "L", "M", "D", "A", "O", "V", "X", "E"];

export const ALL_CASES: CaseDef[] = [functional, xattrs, memory, scale, options, differences, integrity, lifetime, isolation, adversarial].flatMap(casesOf).concat(loadFoundCases(FOUND_DIR, () => DEFAULT_SPECS)).sort((a, b) => {
  const g = GROUP_ORDER.indexOf(a.groups[0]) - GROUP_ORDER.indexOf(b.groups[0]);
  return g !== 0 ? g : a.id.localeCompare(b.id, "en", { numeric: true });
});

const ids = new Set<string>();
for (const c of ALL_CASES) {
  if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
  ids.add(c.id);
}
