// A Comparison as GitHub-flavoured Markdown (comparison.md): the verdict, then what changed
// significantly, then the inconclusive items, then a count of what did not change.
import type { Comparison, ComparisonSide } from "./compare.ts";
import { itemChange, itemLabel, itemTitle, verdictLine } from "./compare.ts";
import type { Item } from "../verdict/judge.ts";
import { mdEscape } from "./markdown.ts";

function table(items: Item[], withLabel: boolean): string[] {
  if (!items.length) return ["None.", ""];
  const head = withLabel ? "| change | item | samples | how sure |\n|---|---|---|---|" : "| item | samples | why undecided |\n|---|---|---|";
  const rows = items.map((i) => {
    const cells = [mdEscape(itemTitle(i)), mdEscape(itemChange(i)), mdEscape(i.note)];
    return `| ${withLabel ? `**${itemLabel(i)}** | ` : ""}${cells.join(" | ")} |`;
  });
  return [head, ...rows, ""];
}

const side = (s: ComparisonSide) => `${mdEscape(s.kernel)}: ${s.files.length} results file(s), ${s.samples} case sample(s)`;

export function renderComparisonMarkdown(c: Comparison): string {
  const unchanged = c.unchanged.length;
  return [
    "# Kernel comparison",
    "",
    `**${mdEscape(verdictLine(c))}**`,
    "",
    `- baseline: ${side(c.baseline)}`,
    `- patched: ${side(c.patched)}`,
    `- method: ${mdEscape(c.method)}; alpha ${c.alpha}, ${c.tests} test(s)`,
    "",
    `## Significant changes (${c.significant.length})`,
    "",
    ...table(c.significant, true),
    `## Inconclusive (${c.inconclusive.length})`,
    "",
    "Listed, not failing: more samples (`--repeat`, more results files, or a larger `--budget`) decide them.",
    "",
    ...table(c.inconclusive, false),
    "## No change",
    "",
    `${unchanged} item(s) showed no change.`,
    ...(c.oneSided.length ? ["", `On one side only (not compared): ${mdEscape(c.oneSided.join(", "))}`] : []),
    "",
  ].join("\n");
}
