// Unit tests for the series parser: a handmade mbox (folded and encoded subjects, a cover letter,
// a reply, out-of-order numbering, From_ escaping), file lists of diffs, and patch(1) failure text.
import { writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applySeries, cleanSubject, describeFailure, diffFiles, loadSeries, parseMbox, PatchApplyError, splitMbox } from "../../harness/kernel/series.ts";
import { tempDir } from "./temp-dirs.ts";



const diff1 = `diff --git a/hello.txt b/hello.txt
index 1111111..2222222 100644
--- a/hello.txt
+++ b/hello.txt
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
`;
const diff2 = `diff --git a/hello.txt b/hello.txt
--- a/hello.txt
+++ b/hello.txt
@@ -1,3 +1,4 @@
 one
 TWO
 three
+four
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+new
`;

const mbox = `From mboxrd@z Thu Jan  1 00:00:00 1970
From: Maintainer <m@example.org>
Subject: [PATCH v3 0/2] hello: a series
Message-ID: <cover@example.org>

Cover letter text, no diff.

From mboxrd@z Thu Jan  1 00:00:00 1970
From: =?UTF-8?q?J=C3=B6rg?= <j@example.org>
Subject: [PATCH v3 2/2] hello: add
 a fourth line
Message-Id: <p2@example.org>
Date: Mon, 1 Jan 2026 00:00:00 +0000

Body of two.
>From here on, a line that was escaped in the mbox.

---
${diff2}-- 
2.43.0

From mboxrd@z Thu Jan  1 00:00:00 1970
From: Reviewer <r@example.org>
Subject: Re: [PATCH v3 1/2] hello: shout two
Message-ID: <reply@example.org>

Looks good.

From mboxrd@z Thu Jan  1 00:00:00 1970
From: =?UTF-8?q?J=C3=B6rg?= <j@example.org>
Subject: =?UTF-8?q?=5BPATCH_v3_1/2=5D_hello:_shout_?=
 =?UTF-8?q?two?=
Message-ID:
 <p1@example.org>

Body of one.
---
${diff1}-- 
2.43.0
`;

describe("mbox parsing", () => {
  it("splits on From_ lines after blank lines and unescapes >From", () => {
    const msgs = splitMbox(mbox);
    expect(msgs).toHaveLength(4);
    expect(msgs[1]).toContain("\nFrom here on, a line");
  });

  it("cleans subjects", () => {
    expect(cleanSubject("[PATCH v3 2/7] erofs: x")).toEqual({ subject: "erofs: x", number: 2, total: 7 });
    expect(cleanSubject("[RFC] [PATCH 01/10] a: b").number).toBe(1);
    expect(cleanSubject("Re: [PATCH] a").subject).toBe("a");
    expect(cleanSubject("plain").number).toBeUndefined();
  });

  it("keeps patches only, in number order, with folded/encoded headers decoded", () => {
    const ps = parseMbox(mbox, "x.mbox");
    expect(ps.map((p) => p.subject)).toEqual(["hello: shout two", "hello: add a fourth line"]);
    expect(ps.map((p) => p.messageId)).toEqual(["p1@example.org", "p2@example.org"]);
    expect(ps[0].author).toBe("Jörg <j@example.org>");
    expect(ps[0].diff).toBe(diff1);
    expect(ps[1].diff).toBe(diff2);
  });

  it("refuses two versions of the same patch number", () => {
    const twice = mbox + "\n" + mbox.split("\n\n").join("\n\n");
    expect(() => parseMbox(twice, "t.mbox")).toThrow(/two patches numbered/);
  });

  it("lists the files a diff touches", () => {
    expect(diffFiles(diff2)).toEqual(["hello.txt", "new.txt"]);
  });

  it("reads a bare diff without mail headers", () => {
    const ps = parseMbox(diff1, "fix.diff");
    expect(ps).toHaveLength(1);
    expect(ps[0].subject).toBe("fix.diff");
  });
});

describe("loading and applying", () => {
  async function tree(): Promise<string> {
    const d = await tempDir(path.join(tmpdir(), "pcshare-series-"));
    await writeFile(path.join(d, "hello.txt"), "one\ntwo\nthree\n");
    return d;
  }

  it("loads a directory in its series-file order and applies it", async () => {
    const dir = await tempDir(path.join(tmpdir(), "pcshare-series-dir-"));
    await writeFile(path.join(dir, "b.patch"), diff1);
    await writeFile(path.join(dir, "a.patch"), diff2);
    await writeFile(path.join(dir, "series"), "# order\nb.patch\na.patch\n");
    const s = await loadSeries(dir);
    expect(s.patches.map((p) => p.origin)).toEqual(["b.patch", "a.patch"]);
    expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
    const t = await tree();
    await applySeries(s, t);
    expect(await readFile(path.join(t, "hello.txt"), "utf8")).toBe("one\nTWO\nthree\nfour\n");
    expect(await readFile(path.join(t, "new.txt"), "utf8")).toBe("new\n");
  });

  it("names the patch and the failing hunk when one does not apply", async () => {
    const file = path.join(await tempDir(path.join(tmpdir(), "pcshare-series-")), "x.mbox");
    await writeFile(file, mbox);
    const s = await loadSeries(file);
    const t = await tree();
    await writeFile(path.join(t, "hello.txt"), "one\nzwei\nthree\n");
    const err = await applySeries(s, t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PatchApplyError);
    expect((err as Error).message).toBe('patch 1/2 "hello: shout two" (x.mbox) does not apply: hello.txt: hunk #1 @@ -1,3 +1,3 @@ FAILED (expected near line 1)');
  });

  it("describes a missing file", () => {
    const out = "can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip option?\nNo file to patch.  Skipping patch.\n1 out of 1 hunk ignored";
    expect(describeFailure(out, diff1)).toMatch(/file to patch not found/);
  });

  it("ships a test series and a broken patch that parse", async () => {
    const s = await loadSeries("kernel-patches/test-series");
    expect(s.patches).toHaveLength(1);
    expect(s.patches[0].subject).toBe("erofs: print a pcshare marker at mount");
    expect(s.patches[0].messageId).toBe("pcshare-test-series-1@pcshare.invalid");
    expect(s.patches[0].files).toEqual(["fs/erofs/super.c"]);
    const b = await loadSeries("kernel-patches/test-series/broken.patch");
    expect(b.patches[0].subject).toBe("erofs: a patch that cannot apply");
  });
});

