// Renders docs/bad-inputs.md from the list in bad-inputs.ts; run this file to regenerate it:
//   npx tsx test/cli/bad-inputs-doc.ts
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BAD_INPUTS, type BadInput } from "./bad-inputs.ts";

export const DOC_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/bad-inputs.md");

const shown = (s: string) => s.replace(/\{\*\}/g, "…").replace(/\{(\w+)\}/g, (_m, k: string) => k.toUpperCase());
const cell = (s: string) => s.replace(/\|/g, "\\|");
const code = (s: string) => (s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``);
const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

export function renderBadInputsDoc(list: BadInput[]): string {
  const rows = list.map((b) => {
    const env = Object.entries(b.env ?? {}).map(([k, v]) => `${k}=${quote(shown(v))} `).join("");
    const needs = b.needs?.length ? ` (needs ${b.needs.join(", ")})` : "";
    const program = b.tool === "nightly" ? "npx tsx scripts/nightly.ts" : "pcshare";
    const stdin = b.stdin ? ` < ${shown(`{dir}/${b.stdin}`)}` : "";
    return `| ${cell(b.kind)}${needs} | ${code(cell(env + program + " " + b.argv.map((a) => quote(shown(a))).join(" ") + stdin))} | ${code(cell(shown(b.message)))} | ${b.exit} |`;
  });
  return [
    "# Bad inputs and what pcshare says",
    "",
    "Every option and `PCSHARE_*` variable is checked before pcshare downloads, builds or boots anything",
    "(harness/cli/validate.ts, validate-inputs.ts); bad input ends in one line that names it and says what",
    "to do, with exit status 2. A damaged cache entry is not an error: it is rebuilt, with a message.",
    "",
    `This table is rendered from test/cli/bad-inputs.ts, the list test/cli/bad-inputs.test.ts runs through`,
    "the CLI (each row: exact stderr and exit status), so it cannot drift from what pcshare prints.",
    "The nightly's inputs are here too: `run --shard`, `merge`, the history commands, `kcidb submit`,",
    "`b4-check`, and `scripts/nightly.ts` with the entries of its kernel matrix (nightly/kernels.yaml).",
    "DIR is the test's scratch directory (its fixtures are in bad-inputs.ts; DIR/repo is a git repository",
    "tagged v1, DIR/history.sqlite a history recording one run), BZIMAGE a real kernel, ENTRY",
    "the name of an image's cache entry, HOSTMIB the host's memory in MiB, REPO the checkout; … stands for",
    "text that differs between hosts. Rows marked *needs mounts* mount tmpfs (root only) for a read-only or",
    "full file system; *needs broken-kvm* runs where /dev/kvm exists but cannot run a guest (as here).",
    "",
    "| bad input | command | message (stderr) | exit |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(DOC_FILE, renderBadInputsDoc(BAD_INPUTS));
  console.log(`${DOC_FILE}: ${BAD_INPUTS.length} rows`);
}
