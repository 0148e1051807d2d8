// Tests of the readable reports (Markdown, HTML) and the SVG chart generator: sections, one verdict
// row per case, escaping of console text, charts for series data, human units.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { renderHtml } from "../../harness/report/html.ts";
import { measurementCharts, niceTicks, renderChart } from "../../harness/report/svg-chart.ts";
import { humanValue } from "../../harness/report/common.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

/** Lines of the Markdown section starting at "## <title>" up to the next "## ". */
function section(md: string, title: string): string[] {
  const lines = md.split("\n");
  const start = lines.indexOf(`## ${title}`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe("markdown", () => {
  const run = fullRun();
  const md = renderMarkdown(run);

  it("names the patch series, its patches with message ids, and how each guest started", () => {
    const patched = fullRun();
    patched.kernel.series = {
      spec: "fix.mbox",
      base: "7.2.13-1",
      hash: "ab".repeat(32),
      patches: [{ subject: "erofs: keep the domain in the key", messageId: "<20261101.1@example.org>" }],
    };
    patched.boots = [
      { hostWallMs: 7000, guestUptimeMs: 5200, waitedMs: 7000 },
      { hostWallMs: 8000, guestUptimeMs: 5400, waitedMs: 300, start: "boot", restoreProblem: "restoring the snapshot failed: QEMU exited" },
      { hostWallMs: 420, guestUptimeMs: 5300, waitedMs: 420, start: "restore" },
    ];
    const text = renderMarkdown(patched);
    expect(text).toContain("fix.mbox on 7.2.13-1, patchset sha256 " + "ab".repeat(32));
    expect(text).toContain("1/1 erofs: keep the domain in the key (20261101.1@example.org)");
    expect(text).toContain("3: 2 booted (ready after 7.00 s, 8.00 s of host wall), 1 restored from a snapshot (ready after 0.42 s);");
    expect(text).toContain("not restored: restoring the snapshot failed: QEMU exited");
    expect(renderHtml(patched)).toContain("erofs: keep the domain in the key (20261101.1@example.org)");
    expect(md).not.toContain("Patch series");
  });

  it("lists the cases whose verdict varied over --repeat, and only for repeated runs", () => {
    const cases = [0, 1, 2].flatMap((r) => [
      makeCase({ id: "F1", name: "steady", outcome: "pass", repeat: r }),
      makeCase({ id: "L2", name: "racy", outcome: r === 1 ? "fail" : "pass", repeat: r }),
    ]);
    const lines = section(renderMarkdown(makeRun(cases)), "Repeat stability");
    expect(lines).toContain("1 cases gave the same verdict in every repetition; 1 varied.");
    expect(lines).toContain("- **L2 racy:** 2 pass, 1 fail");
    expect(renderHtml(makeRun(cases))).toContain("<li><strong>L2 racy:</strong> 2 pass, 1 fail</li>");
    expect(md).not.toContain("## Repeat stability");
  });

  it("shows in the Run table how QEMU was confined (results.json host.qemuConfinement), in Markdown and HTML", () => {
    const confined = fullRun();
    confined.host.qemuConfinement = {
      sandbox: "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny",
      user: "nobody",
      uid: 65534,
      chroot: true,
      note: "pcshare runs as root: QEMU switches to nobody (uid 65534)",
    };
    const row = section(renderMarkdown(confined), "Run").find((l) => l.startsWith("| **QEMU confinement** |"));
    expect(row).toBe(
      "| **QEMU confinement** | pcshare runs as root: QEMU switches to nobody (uid 65534), chrooted into its private run dir; -sandbox on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny |",
    );
    expect(renderHtml(confined)).toContain(
      "<td>QEMU confinement</td><td>pcshare runs as root: QEMU switches to nobody (uid 65534), chrooted into its private run dir; -sandbox on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny</td>",
    );
    // results written before the field existed
    expect(section(md, "Run")).toContain("| **QEMU confinement** | not recorded (results of an older pcshare) |");
  });

  it("shows in the Run table how the image drives attached (results.json host.driveBus; virtio-blk when not recorded)", () => {
    const scsi = fullRun();
    scsi.host.driveBus = "virtio-scsi";
    expect(section(renderMarkdown(scsi), "Run")).toContain("| **Image drives** | virtio-scsi: every image a LUN of one controller (PCSHARE\\_DRIVE\\_BUS) |");
    expect(renderHtml(scsi)).toContain("<td>Image drives</td><td>virtio-scsi: every image a LUN of one controller (PCSHARE_DRIVE_BUS)</td>");
    expect(section(renderMarkdown(fullRun()), "Run")).toContain("| **Image drives** | virtio-blk: one PCI device per image |");
  });

  it("shows a crash through decode_stacktrace.sh when it was symbolized", () => {
    const c = makeCase({ id: "L1", name: "x", outcome: "fail" });
    c.crashes = [{ kind: "bug", title: "kernel BUG at fs/super.c:639!", excerpt: "raw frame+0x1/0x2", symbolized: "raw frame (fs/super.c:639)" }];
    const text = renderMarkdown(makeRun([c]));
    expect(text).toContain("raw frame (fs/super.c:639)");
    expect(text).not.toContain("raw frame+0x1/0x2");
  });

  it("has one verdict table row per case, in order", () => {
    const rows = section(md, "Verdicts").filter((l) => l.startsWith("| "));
    expect(rows[0]).toBe("| ID | Name | Groups | Outcome | Reason | Duration |");
    const body = rows.slice(1);
    expect(body).toHaveLength(run.cases.length);
    body.forEach((r, i) => expect(r.startsWith(`| ${run.cases[i].id} |`)).toBe(true));
    // each row has exactly 6 cells: unescaped pipes only as separators
    for (const r of body) expect(r.split(/(?<!\\)\|/).length - 2).toBe(6);
  });

  it("has header, failures, measurements, findings and the totals", () => {
    expect(md).toContain("6.16.0-1-amd64");
    expect(md).toContain("`CONFIG_EROFS_FS_PAGE_CACHE_SHARE=y`");
    expect(md).toContain("mkfs.erofs 1.9.4");
    expect(md).toContain("2 min 11 s");
    const failures = section(md, "Failures and errors").join("\n");
    for (const t of ["F2 other domain # isolated — FAIL", "B2 fixed-bug — XPASS", "S1 umount-race — ERROR", "M4 scale with mounts — TIMEOUT"])
      expect(failures).toContain(t);
    expect(failures).not.toContain("F1 same");
    expect(failures).toContain("| pfn differs | pfn A != pfn B | both 0x1234 &lt;same&gt; |");
    expect(failures).toContain("BUG: KASAN: slab\\-use\\-after\\-free".replace(/\\/g, "")); // crash title
    const measures = section(md, "Sharing measurements").join("\n");
    expect(measures).toContain("| mount\\_time |  |  | 12.5 ms | 12.5 ms |");
    expect(measures).toContain("| x | shared | plain | ideal |");
    expect(measures).toContain("| 8 | 5 | 8 | 1 |"); // MiB
    const findings = section(md, "Findings").filter((l) => l.startsWith("- "));
    expect(findings).toHaveLength(2);
    expect(md.trimEnd().split("\n").at(-1)).toBe(
      "**Summary:** FAIL — 7 cases: 1 pass, 1 fail, 1 skip, 1 xfail, 1 xpass, 1 error, 1 timeout, 0 missing",
    );
  });

  it("fences console text so it cannot break out, without control characters", () => {
    const failures = section(md, "Failures and errors").join("\n");
    expect(failures).toContain("````text\n[    1.0] erofs: mounted ✓ 日本語 🐧\nrednulbelvtlone\n<script>");
    expect(md).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
});

describe("html", () => {
  const html = renderHtml(fullRun());

  it("is self-contained: no scripts, no external resources", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).toContain("Content-Security-Policy");
    expect(html).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it("escapes console text", () => {
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; ]]&gt;");
    expect(html).toContain("mounted ✓ 日本語 🐧");
  });

  it("has an SVG chart for series data, and one verdict row per case with outcome colours", () => {
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(1);
    expect(svgs[0]).toContain("MiB");
    for (const s of ["shared", "plain", "ideal"]) expect(svgs[0]).toContain(`>${s}</text>`);
    const verdicts = html.split('<table class="verdicts">')[1].split("</table>")[0];
    expect(verdicts.match(/<tr>/g)).toHaveLength(1 + 7);
    for (const o of ["pass", "fail", "skip", "xfail", "xpass", "error", "timeout"]) expect(verdicts).toContain(`o-${o}`);
    expect(html).toMatch(/\.o-fail\{background:#/);
  });

  it("omits charts when no measurement has a series", () => {
    const plain = renderHtml(makeRun([makeCase({ id: "F1", name: "x", outcome: "pass", measurements: [{ name: "a", value: 1, unit: "B" }] })]));
    expect(plain).not.toContain("<svg");
  });
});

/** A headless Chromium on PATH, if any (nothing is installed for this check). */
function findChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])
    for (const dir of (process.env.PATH ?? "").split(path.delimiter))
      if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

describe("html in a browser", () => {
  const chromium = findChromium();
  it.skipIf(!chromium)("renders with headless Chromium", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pcshare-html-"));
    try {
      const page = path.join(dir, "report.html");
      const shot = path.join(dir, "shot.png");
      writeFileSync(page, renderHtml(fullRun()));
      execFileSync(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", `--screenshot=${shot}`, "--window-size=1200,2400", `file://${page}`], {
        stdio: "ignore",
        timeout: 60_000,
      });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("svg chart", () => {
  it("produces well-formed standalone SVG with axes, ticks and legend", () => {
    const svg = renderChart(
      [
        { name: "a<b", points: [{ x: 1, y: 1048576 }, { x: 2, y: 3 * 1048576 }] },
        { name: "c", points: [{ x: 1, y: 0 }, { x: 2, y: 1048576 }] },
      ],
      { title: "t & t", yUnit: "B", xLabel: "mounts" },
    );
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain(">MiB</text>");
    expect(svg).toContain(">mounts</text>");
    expect(svg).toContain("a&#60;b");
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });

  it("draws bars for series without x", () => {
    const charts = measurementCharts([
      { name: "read", value: 5, unit: "ms", series: "shared" },
      { name: "read", value: 9, unit: "ms", series: "plain" },
    ]);
    expect(charts).toHaveLength(1);
    expect(charts[0].kind).toBe("bar");
    const svg = renderChart(charts[0].series, { kind: "bar", yUnit: "ms" });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(2);
  });

  it("labels the x axis of a measurement chart with the measurements' xLabel", () => {
    const charts = measurementCharts([
      { name: "growth", value: 1, unit: "B", series: "shared", x: 1, xLabel: "mounts (N)" },
      { name: "growth", value: 2, unit: "B", series: "shared", x: 2 },
    ]);
    expect(charts[0].xLabel).toBe("mounts (N)");
    expect(measurementCharts([{ name: "g", value: 1, unit: "B", series: "s", x: 1 }])[0].xLabel).toBeUndefined();
  });

  it("chooses round ticks and human units", () => {
    expect(niceTicks(0, 8)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0, 9.5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 3 * 1048576 / 1048576 + 0.2)).toEqual([0, 1, 2, 3, 4]);
    expect(humanValue(3 * 1048576, "B")).toBe("3 MiB");
    expect(humanValue(1536, "B")).toBe("1.5 KiB");
    expect(humanValue(100, "B")).toBe("100 B");
    expect(humanValue(2048, "KiB")).toBe("2 MiB");
    expect(humanValue(12.5, "ms")).toBe("12.5 ms");
    expect(humanValue(25000, "ms")).toBe("25 s");
  });
});

describe("known bugs in the readable reports", async () => {
  const { readFileSync } = await import("node:fs");
  const { applyKnownBugs } = await import("../../harness/verdict/known-bugs.ts");
  const { loadKnownBugs } = await import("../../harness/verdict/load-known-bugs.ts");
  const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8"));
  const run = applyKnownBugs(recorded, await loadKnownBugs());

  it("Markdown: a Known bugs section with each xfail, what the bug explains and the excerpts", () => {
    const md = renderMarkdown(run);
    const kb = section(md, "Known bugs").join("\n");
    expect(kb).toContain("### erofs-remount-inode-share-null-domain");
    expect(kb).toContain("#### O3 remount-adds-inode-share-without-domain — XFAIL");
    expect(kb).toContain("RIP: 0010:strlen+0x4/0x30");
    expect(kb).toContain("a remount without domain\\_id did not leave inode\\_share on");
    expect(kb).toContain("### erofs-ishare-unmount-busy-inodes-race (race)");
    expect(kb).toMatch(/Hit in 1 of 1 result\(s\) of L1, L2, L3, V2/);
    // the xfails are not in "Failures and errors" (no duplicate), but the verdict table shows them
    expect(section(md, "Failures and errors").join("\n")).not.toContain("O3 remount");
    expect(section(md, "Verdicts").join("\n")).toMatch(/O3 .*xfail.*known bug erofs-remount-inode-share-null-domain/);
  });

  it("HTML: the same section, escaped", () => {
    const html = renderHtml(run);
    expect(html).toContain("<h2>Known bugs</h2>");
    expect(html).toContain("<code>known-bugs/erofs-ishare-inline-tail-zeros-bs2048.yaml</code>");
    expect(html).toContain("WARNING: fs/iomap/buffered-io.c:694 at iomap_readahead+0x218/0x350");
    expect(html).not.toMatch(/<pre>[^<]*<(?!\/pre>)/); // excerpts carry no raw markup
  });

  it("no section when the run was not checked against known bugs", () => {
    expect(renderMarkdown(recorded)).not.toContain("## Known bugs");
  });
});
