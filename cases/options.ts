// O. Mount options and remount: what the kernel accepts and refuses for inode_share/domain_id through
// mount(2) and the new mount API (with the fs context's error log), the fallback on images without
// fingerprints, and remount paths that change the share options after mount (O7, the kernel without
// the feature, is a runner test: test/runner/feature-absent.test.ts).
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext, Mounted } from "../harness/runner/context.ts";
import { expectFilesRead, expectSharing, PAIR } from "./fixtures.ts";

const MSG_NEED_DOMAIN = "domain_id is needed when inode_ishare is on";
const MSG_NO_DAX = "FSDAX is not allowed when inode_ishare is on";
/** Without CONFIG_FS_DAX the dax option itself is refused first, before the inode_share check. */
const MSG_DAX_UNSUPPORTED = "dax options not supported";
const daxRefusal = (t: CaseContext) => (t.kernel.config.CONFIG_FS_DAX === "y" ? MSG_NO_DAX : MSG_DAX_UNSUPPORTED);
const MSG_NO_XATTRS = "on-disk ishare xattrs not found. Turning off inode_share.";
const MSG_IGNORE_DOMAIN = "ignoring reconfiguration for domain_id.";

/** Kernel log lines printed while `step` ran. */
async function kmsgDuring(t: CaseContext, step: () => Promise<unknown>): Promise<string[]> {
  await t.agent.kmsg();
  await step();
  return (await t.agent.kmsg()).map((r) => r.text);
}

/** Whether /proc/mounts lists inode_share for the mount at dir. */
async function showsInodeShare(t: CaseContext, dir: string): Promise<boolean> {
  const mounts = (await t.agent.readFile("/proc/mounts")).data.toString("utf8");
  const line = mounts.split("\n").find((l) => l.split(" ")[1] === dir);
  if (!line) throw new Error(`${dir} is not in /proc/mounts`);
  return line.split(" ")[3].split(",").includes("inode_share");
}

/** Remount `m` read-only with `data`: "ok" or the errno name. */
const remount = (t: CaseContext, m: Mounted, data: string): Promise<string> => t.errno(t.agent.mount({ target: m.dir, flags: ["remount", "ro"], data }));

export const O1 = defineCase({
  id: "O1",
  name: "share-option-combinations-refused",
  groups: ["O"],
  expect:
    "mount(2) refuses inode_share without domain_id (EINVAL), an empty domain_id, dax together with inode_share (EINVAL; without CONFIG_FS_DAX dax alone is refused first) and the unknown option noinode_share, each with its message; inode_share,domain_id=x mounts",
  requires: ["page-cache-share"],
  images: ["share-a"],
  async run(t) {
    const cases: { data: string; errname: string | null; message?: string }[] = [
      { data: "inode_share", errname: "EINVAL", message: MSG_NEED_DOMAIN },
      { data: "inode_share,domain_id=", errname: null },
      { data: "dax,inode_share,domain_id=x", errname: "EINVAL", message: daxRefusal(t) },
      { data: "noinode_share", errname: null },
    ];
    // A mount that unexpectedly succeeds is unmounted at once: a later mount of the same device would reuse its superblock.
    const attempt = (data: string): Promise<string> => t.errno(t.mount("share-a", { data }).then((m) => t.umount(m)));
    for (const c of cases) {
      let got = "";
      const log = await kmsgDuring(t, async () => (got = await attempt(c.data)));
      if (c.errname) t.expectEqual(`mount -o ${c.data}`, got, c.errname);
      else t.expect(`mount -o ${c.data} is refused`, got !== "ok", { expected: "an errno", seen: got });
      if (c.message) t.expect(`mount -o ${c.data} logs "${c.message}"`, log.some((l) => l.includes(c.message!)), { expected: c.message, seen: log.join(" | ") });
    }
    t.expectEqual("mount -o inode_share,domain_id=x", await t.tryMount("share-a", { domain: "x" }), "ok");
  },
});

export const O2 = defineCase({
  id: "O2",
  name: "no-fingerprints-turns-share-off",
  groups: ["O"],
  expect: `an image without fingerprints mounted with inode_share,domain_id=x mounts, logs "${MSG_NO_XATTRS}", does not list inode_share and shares nothing with a fingerprinted image of the same domain`,
  requires: ["page-cache-share"],
  images: ["plain-a", "share-a"],
  async run(t) {
    let plain: Mounted | undefined;
    const log = await kmsgDuring(t, async () => (plain = await t.mount("plain-a", { domain: "x" })));
    t.expect(`mount logs "${MSG_NO_XATTRS}"`, log.some((l) => l.includes(MSG_NO_XATTRS)), { expected: MSG_NO_XATTRS, seen: log.join(" | ") });
    t.expectEqual("/proc/mounts lists inode_share for the image without fingerprints", await showsInodeShare(t, plain!.dir), false);
    const shared = await t.mount("share-a", { domain: "x" });
    await expectSharing(t, plain!, shared, "separate");
  },
});

export const O3 = defineCase({
  id: "O3",
  name: "remount-adds-inode-share-without-domain",
  groups: ["O"],
  debug: true,
  expect:
    "after a mount without domain_id, remount with inode_share is refused or ignored; lookups and reads afterwards return the source's bytes and the kernel does not oops",
  concernTag: "remount",
  concern: "remount paths that enable sharing after mount (suspected NULL domain_id dereference in 7.2.13)",
  requires: ["page-cache-share"],
  images: ["share-a"],
  async run(t) {
    const m = await t.mount("share-a");
    const r = await remount(t, m, "inode_share");
    t.measure("remount_inode_share_refused", r === "ok" ? 0 : 1, "count", { kind: "exact" });
    const shown = await showsInodeShare(t, m.dir);
    t.measure("inode_share_listed_after_remount", shown ? 1 : 0, "count", { kind: "exact" });
    // Fresh lookups (the files were never opened, so their inodes are created after the remount),
    // each in a background process polled from here: if the kernel oopses, the reader dies (or hangs)
    // instead of the agent, and the case fails with the kernel's report.
    await t.sh("mkdir -p /run/pcs-o3");
    let k = 0;
    for (const f of m.image.manifest.files.filter((x) => x.type === "file" && x.sha256)) {
      const out = `/run/pcs-o3/${++k}.out`;
      const pid = await t.agent.spawn(["/bin/sh", "-c", `sha256sum ${m.path(f.path)} > ${out}.tmp && mv ${out}.tmp ${out}`], { maxMs: 20_000 });
      let sum: string | undefined;
      for (let i = 0; i < 50 && sum === undefined; i++) {
        sum = await t.agent.readFile(out).then((r) => r.data.toString("utf8").split(" ")[0], () => undefined);
        if (sum === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      t.expectEqual(`after remount,inode_share: ${f.path} reads the source's bytes`, sum ?? `(reader ${pid} did not finish in 5 s)`, f.sha256);
      if (sum === undefined) break; // the kernel is in no state for more lookups
    }
    t.expect("a remount without domain_id did not leave inode_share on", !shown || r !== "ok", { expected: "inode_share refused or not listed", seen: `remount ${r}, listed ${shown}` });
  },
});

export const O4 = defineCase({
  id: "O4",
  name: "remount-share-on-image-with-other-prefixes",
  groups: ["O"],
  debug: true,
  expect:
    "an image with long xattr prefixes but no fingerprints, remounted inode_share,domain_id=x: lookups read every file correctly, nothing is shared with a fingerprinted image of that domain, and the kernel reports no out-of-bounds access",
  concernTag: "remount",
  concern: "remount enabling inode_share on an image whose ishare prefix id was never validated",
  requires: ["page-cache-share"],
  images: ["xprefix-nofp", "share-a"],
  async run(t) {
    // Mounted with the domain first (sharing turned off for lack of fingerprints), so the remount
    // has a domain_id and only the missing fingerprint prefix is new.
    const m = await t.mount("xprefix-nofp", { domain: "x" });
    const r = await remount(t, m, "inode_share,domain_id=x");
    t.measure("remount_refused", r === "ok" ? 0 : 1, "count", { kind: "exact" });
    t.measure("inode_share_listed_after_remount", (await showsInodeShare(t, m.dir)) ? 1 : 0, "count", { kind: "exact" });
    await expectFilesRead(t, m, "after remount");
    const shared = await t.mount("share-a", { domain: "x" });
    await expectSharing(t, shared, m, "separate");
  },
});

export const O5 = defineCase({
  id: "O5",
  name: "remount-domain-id-ignored",
  groups: ["O"],
  expect: `remount with a new domain_id logs "${MSG_IGNORE_DOMAIN}"; afterwards every file reads the source's bytes and the mount shares exactly when /proc/mounts lists inode_share (share state recorded)`,
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    let r = "";
    const log = await kmsgDuring(t, async () => (r = await remount(t, b, "domain_id=y")));
    t.expectEqual("remount,domain_id=y", r, "ok");
    t.expect(`remount logs "${MSG_IGNORE_DOMAIN}"`, log.some((l) => l.includes(MSG_IGNORE_DOMAIN)), { expected: MSG_IGNORE_DOMAIN, seen: log.join(" | ") });
    const listed = await showsInodeShare(t, b.dir);
    t.measure("inode_share_listed_after_remount", listed ? 1 : 0, "count", { kind: "exact" });
    // the share state must match the options /proc/mounts lists
    const probes = await expectSharing(t, a, b, listed ? "shared" : "separate");
    for (const [p, order] of [[probes[0], "a_first"], [probes[1], "b_first"]] as const) t.measure(`shared_after_remount_${order}`, p.verdict === "shared" ? 1 : 0, "count", { kind: "exact" });
  },
});

export const O6 = defineCase({
  id: "O6",
  name: "new-mount-api-share-options",
  groups: ["O"],
  expect:
    "through fsopen/fsconfig: inode_share without domain_id, an empty domain_id, dax with inode_share and noinode_share are refused with the reason in the fs context log; inode_share with domain_id=x mounts",
  requires: ["page-cache-share"],
  images: ["share-a"],
  async run(t) {
    // "ro": the fs context opens the block device read-only only when asked (mount(2) passes MS_RDONLY).
    const source = [{ key: "source", value: t.image("share-a").device }, { key: "ro" }];
    const attempts: { label: string; params: { key: string; value?: string }[]; log: RegExp }[] = [
      { label: "inode_share", params: [{ key: "inode_share" }], log: /domain_id is needed/ },
      { label: "domain_id empty", params: [{ key: "inode_share" }, { key: "domain_id", value: "" }], log: /domain_id/ },
      { label: "dax,inode_share,domain_id=x", params: [{ key: "dax" }, { key: "inode_share" }, { key: "domain_id", value: "x" }], log: new RegExp(daxRefusal(t)) },
      { label: "noinode_share", params: [{ key: "noinode_share" }], log: /noinode_share/ },
    ];
    for (const a of attempts) {
      const r = await t.agent.fsMount({ fstype: "erofs", params: [...source, ...a.params] });
      t.measure(`log_messages_${a.label.replace(/\W+/g, "_")}`, r.log.length, "count", { kind: "exact" });
      t.expect(`${a.label} is refused`, r.result !== "ok", { expected: "an errno", seen: `${r.result} at ${r.failed_at}` });
      t.expect(`${a.label}: the reason is in the fs context log`, r.log.some((l) => /^e /.test(l) && a.log.test(l)), { expected: `e ... ${a.log.source}`, seen: r.log.join(" | ") || "(empty log)" });
    }
    const target = "/mnt/o6-newapi";
    const ok = await t.agent.fsMount({ fstype: "erofs", params: [...source, { key: "inode_share" }, { key: "domain_id", value: "x" }], target });
    t.expectEqual("inode_share,domain_id=x through fsmount", ok.result, "ok");
    if (ok.result === "ok") {
      try {
        const f = t.file("share-a", PAIR.fileA);
        t.expectEqual("the new-API mount reads the source's bytes", (await t.agent.readHash(`${target}${PAIR.fileA}`)).xxh64, f.xxh64);
        t.expectEqual("/proc/mounts lists inode_share", await showsInodeShare(t, target), true);
      } finally {
        await t.agent.umount(target).catch(() => t.agent.umount(target, ["detach"]));
      }
    }
  },
});
