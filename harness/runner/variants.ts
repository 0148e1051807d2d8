// Which variants of a case a run executes. A case may declare variants (e.g. the image layouts a
// layout-dependent check runs over); the case runs them one after another in one guest, naming the
// variant in every check. `--all-variants` runs every variant; otherwise a case that declares
// `variantsPerRun` runs a window of that many, chosen by the run's variant seed (recorded in the
// results) and moving on by one window per seed, so consecutive seeds cover every variant; an offset
// lets cases over the same variants take complementary windows.
import type { CaseDef } from "./case.ts";

export interface VariantChoice {
  /** Rotation seed: the window of a rotating case (default: the UTC day, see defaultVariantSeed). */
  seed: number;
  /** Run every variant of every case. */
  all: boolean;
}

const DAY_MS = 86_400_000;

/** The default seed: days since 1970-01-01 UTC, so runs of one day agree and nightly runs rotate. */
export function defaultVariantSeed(now: Date = new Date()): number {
  return Math.floor(now.getTime() / DAY_MS);
}

/** The variants of `def` this run executes, in declaration order; undefined for a case without variants. */
export function chosenVariants(def: Pick<CaseDef, "id" | "variants" | "variantsPerRun" | "variantOffset">, choice: VariantChoice): string[] | undefined {
  const ids = def.variants;
  if (!ids?.length) return undefined;
  const per = def.variantsPerRun;
  if (choice.all || per === undefined || per >= ids.length) return [...ids];
  const start = (choice.seed * per + (def.variantOffset ?? 0)) % ids.length;
  const picked = new Set(Array.from({ length: per }, (_, k) => (start + k) % ids.length));
  return ids.filter((_, i) => picked.has(i));
}

/** Seeds after which every variant of `def` has run at least once (1 for a case that runs all). */
export function seedsToCover(def: Pick<CaseDef, "variants" | "variantsPerRun">): number {
  const n = def.variants?.length ?? 0;
  const per = def.variantsPerRun;
  return per === undefined || per >= n ? 1 : Math.ceil(n / per);
}
