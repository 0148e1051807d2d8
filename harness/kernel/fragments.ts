// Kernel config fragments (kernel-configs/*.config): finding them by name or path, hashing them for
// cache keys, reading what they ask for, and checking that every request survived
// merge_config.sh + olddefconfig, naming the Kconfig dependencies of the ones that did not.
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../util/hash.ts";

export const CONFIGS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../kernel-configs");

export interface Fragment {
  name: string;
  file: string;
  text: string;
}

/** A fragment by name ("base" -> kernel-configs/base.config) or by path (anything with / or .config). */
export async function loadFragment(spec: string): Promise<Fragment> {
  const file = spec.includes("/") || spec.endsWith(".config") ? path.resolve(spec) : path.join(CONFIGS_DIR, `${spec}.config`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    const known = (await readdir(CONFIGS_DIR)).filter((f) => f.endsWith(".config")).map((f) => f.replace(/\.config$/, ""));
    throw new Error(`config fragment "${spec}": no file ${file} (known fragments: ${known.join(", ")})`);
  }
  return { name: path.basename(file).replace(/\.config$/, ""), file, text };
}

export async function loadFragments(specs: string[]): Promise<Fragment[]> {
  return Promise.all(specs.map(loadFragment));
}

/** sha256 over the fragments' names and contents, in merge order. */
export function fragmentsHash(frags: Fragment[]): string {
  return sha256Hex(frags.map((f) => `${f.name}\n${f.text}`).join("\0"));
}

/** What the fragments ask for, later fragments winning: CONFIG_X -> "y" | "m" | "n" | value. */
export function requestedOptions(frags: Fragment[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of frags) {
    for (const line of f.text.split("\n")) {
      const on = line.match(/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/);
      if (on) out.set(on[1], on[2].trim().replace(/^"(.*)"$/, "$1"));
      const off = line.match(/^# (CONFIG_[A-Za-z0-9_]+) is not set/);
      if (off) out.set(off[1], "n");
    }
  }
  return out;
}

export interface Mismatch {
  option: string;
  requested: string;
  got: string;
}

/** Requested options whose final value differs (an absent option counts as "n"). */
export function checkOptions(requested: Map<string, string>, config: Record<string, string>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [option, want] of requested) {
    const got = config[option] ?? "n";
    if (got !== want) out.push({ option, requested: want, got: config[option] === undefined ? "n (absent)" : got });
  }
  return out;
}

/** The `depends on` / `select`-by lines of a symbol's Kconfig definitions, found by scanning the tree. */
export async function kconfigDepends(srcDir: string, symbols: string[]): Promise<Map<string, string[]>> {
  const want = new Set(symbols.map((s) => s.replace(/^CONFIG_/, "")));
  const out = new Map<string, string[]>();
  const files: string[] = [];
  async function walk(d: string) {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.startsWith("Kconfig")) files.push(p);
    }
  }
  await walk(srcDir);
  for (const file of files) {
    const lines = (await readFile(file, "utf8")).split("\n");
    let cur: string | undefined;
    const ifs: string[] = []; // enclosing `if X` blocks of this file (dependencies of what they hold)
    const add = (sym: string, dep: string) => {
      const list = out.get(`CONFIG_${sym}`) ?? [];
      if (!list.includes(dep)) list.push(dep);
      out.set(`CONFIG_${sym}`, list);
    };
    for (const l of lines) {
      const def = l.match(/^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/);
      if (def) {
        cur = want.has(def[1]) ? def[1] : undefined;
        if (cur) for (const c of ifs) add(cur, c);
        continue;
      }
      const iff = l.match(/^if\s+(.+)$/);
      if (iff) ifs.push(iff[1].trim());
      else if (/^endif\b/.test(l)) ifs.pop();
      if (/^\s*(choice|endchoice|menu|endmenu|if|endif|comment|source)\b/.test(l)) {
        cur = undefined;
        continue;
      }
      const dep = cur && l.match(/^\s*depends on\s+(.+)$/);
      if (cur && dep) add(cur, dep[1].trim());
    }
  }
  return out;
}

/** "CONFIG_X: requested y, got n (depends on A && B)" lines for a failed check. */
export async function explainMismatches(srcDir: string, mismatches: Mismatch[]): Promise<string> {
  const deps = await kconfigDepends(srcDir, mismatches.map((m) => m.option));
  return mismatches
    .map((m) => {
      const d = deps.get(m.option);
      const why = d?.length ? `depends on ${d.join(" && ")}` : "no `depends on` found in its Kconfig file: unknown symbol, or hidden by an `if` in a file that sources it";
      return `${m.option}: requested ${m.requested}, got ${m.got} (${why})`;
    })
    .join("\n");
}
