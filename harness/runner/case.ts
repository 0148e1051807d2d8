// The case API: what a case declares (id, purpose, requirements, images) and the function that runs
// it in the guest. Cases live in cases/*.ts, one file per group, and read like a specification.
import type { CaseContext } from "./context.ts";
import { CONCERNS, type ConcernTag } from "../../cases/concerns.ts";

/** Requirements are data, checked before booting; an unmet one makes the case SKIP with its reason. */
export type Requirement =
  | "erofs" // erofs available (built in or module)
  | "page-cache-share" // CONFIG_EROFS_FS_PAGE_CACHE_SHARE=y
  | "file-backed" // CONFIG_EROFS_FS_BACKED_BY_FILE=y
  | "compression" // CONFIG_EROFS_FS_ZIP=y
  | "memcg" // CONFIG_MEMCG=y
  | "cachestat" // CONFIG_CACHESTAT_SYSCALL=y
  | "overlay"; // overlayfs available

export interface CaseDef {
  /** Catalog id, e.g. "F1". */
  id: string;
  /** What it checks, kebab-case, e.g. "same-domain-shares-frames". */
  name: string;
  /** Catalog groups (F, I, L, M, D, A, O, V, X). */
  groups: string[];
  tags?: string[];
  /** One sentence: what a correct kernel does. */
  expect: string;
  /** The review concern this case reproduces, when it reproduces one. */
  concern?: string;
  /** Which of the review concerns (cases/concerns.ts) it is, for `pcshare concerns`; required with `concern`. */
  concernTag?: ConcernTag;
  /** Set when the case does part of its work on the host (not through the guest agent): why. A reproducer bundle cannot replay it. */
  hostSteps?: string;
  requires?: Requirement[];
  /** Image names (from the image specs) this case mounts; they are attached to the guest. */
  images?: string[];
  /** The verdict means much only on a debug kernel (KASAN, lockdep, CONFIG_EROFS_FS_DEBUG). */
  debug?: boolean;
  /** Guest-side time limit for the whole case (default 60 s). */
  timeoutMs?: number;
  /**
   * Variant ids (e.g. image layouts) the case runs over, one after another in one guest; `t.variants`
   * holds the ones chosen for this run (runner/variants.ts). Every check names its variant.
   */
  variants?: string[];
  /** Run only this many variants per run, rotated by the run's variant seed (--all-variants: all). */
  variantsPerRun?: number;
  /**
   * Where this case's window starts relative to the seed's (default 0): two cases over the same
   * variants with windows of half of them and offsets 0 and half cover every variant in each run.
   */
  variantOffset?: number;
  run(t: CaseContext): Promise<void>;
}

export function defineCase(def: CaseDef): CaseDef {
  if (!/^[A-Z]\d+[a-z]?$/.test(def.id)) throw new Error(`case id "${def.id}" must look like F1, I3, M4b`);
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(def.name)) throw new Error(`case ${def.id}: name "${def.name}" must be kebab-case`);
  if (def.concern && !def.concernTag) throw new Error(`case ${def.id}: a case with a concern names its concernTag (one of ${Object.keys(CONCERNS).join(", ")})`);
  if (def.concernTag && !(def.concernTag in CONCERNS)) throw new Error(`case ${def.id}: concernTag "${def.concernTag}" is not in cases/concerns.ts`);
  const v = def.variants;
  if (v && new Set(v).size !== v.length) throw new Error(`case ${def.id}: variant ids must be unique`);
  if (def.variantsPerRun !== undefined && (!v?.length || !Number.isInteger(def.variantsPerRun) || def.variantsPerRun < 1)) {
    throw new Error(`case ${def.id}: variantsPerRun needs variants and must be a positive integer`);
  }
  return def;
}

export function caseLabel(c: Pick<CaseDef, "id" | "name">): string {
  return `${c.id} ${c.name}`;
}
