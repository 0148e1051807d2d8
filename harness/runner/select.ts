// Which cases a run includes: --only / --skip (ids, names, or id-name, comma-separated, * wildcards)
// and --tag (matches tags and groups). Unknown selectors are an error naming them.
import type { CaseDef } from "./case.ts";

export interface Selection {
  only?: string[];
  skip?: string[];
  tag?: string[];
}

function split(list: string[] | undefined): string[] {
  return (list ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
}

function matcher(pattern: string): (c: CaseDef) => boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i");
  return (c) => re.test(c.id) || re.test(c.name) || re.test(`${c.id}-${c.name}`);
}

export function selectCases(all: CaseDef[], sel: Selection): CaseDef[] {
  const only = split(sel.only);
  const skip = split(sel.skip);
  const tags = split(sel.tag).map((t) => t.toLowerCase());
  for (const p of [...only, ...skip]) {
    if (!all.some(matcher(p))) throw new Error(`no case matches "${p}" (see \`pcshare list\` for ids and names)`);
  }
  return all.filter(
    (c) =>
      (only.length === 0 || only.some((p) => matcher(p)(c))) &&
      !skip.some((p) => matcher(p)(c)) &&
      (tags.length === 0 || tags.some((t) => [...(c.tags ?? []), ...c.groups].map((x) => x.toLowerCase()).includes(t))),
  );
}
