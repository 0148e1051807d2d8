// F. Functional sharing: two images holding the same file at different paths, mounted in one
// domain, share one page cache (same frames, residency through the mount that never read, no
// second copy in Cached); eviction, O_DIRECT, mmap and the read paths behave as for any file.
import { defineCase } from "../harness/runner/case.ts";
import { AgentError } from "../harness/guest/agent-client.ts";
import { commonFile, expectSharing } from "./sharing-helpers.ts";

export const F1 = defineCase({
  id: "F1",
  name: "same-domain-shares-frames",
  groups: ["F"],
  tags: ["smoke", "control"],
  expect: "the same file in two images mounted with one domain_id is one set of page frames; both read the source's bytes",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    await expectSharing(t, a, b, "shared");
  },
});

export const F1b = defineCase({
  id: "F1b",
  name: "plain-mounts-do-not-share",
  groups: ["F"],
  tags: ["smoke", "control"],
  expect: "without inode_share the same file in two images has two page caches (negative control for F1's signals)",
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a");
    const b = await t.mount("share-b");
    await expectSharing(t, a, b, "separate");
  },
});

export const F2 = defineCase({
  id: "F2",
  name: "fadvise-dontneed-evicts-for-both",
  groups: ["F", "M"],
  expect: "after reading through A, POSIX_FADV_DONTNEED through B empties the shared cache for both mounts",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const f = commonFile(t, "share-a", "share-b");
    await t.agent.readHash(a.path(f.pathA));
    const before = await t.agent.mincore(b.path(f.pathB));
    t.measure("resident_b_before", before.resident, "pages");
    t.assert("B resident after reading A (sharing precondition)", before.resident === before.pages, { expected: before.pages, seen: before.resident });
    await t.agent.fadvise(b.path(f.pathB), "dontneed");
    const ra = await t.agent.mincore(a.path(f.pathA));
    const rb = await t.agent.mincore(b.path(f.pathB));
    t.measure("resident_a_after_dontneed_via_b", ra.resident, "pages");
    t.measure("resident_b_after_dontneed_via_b", rb.resident, "pages");
    t.expectEqual("A resident pages after DONTNEED through B", ra.resident, 0);
    t.expectEqual("B resident pages after DONTNEED through B", rb.resident, 0);
    const again = await t.agent.readHash(b.path(f.pathB));
    t.expectEqual("B reads the source's bytes after eviction", again.sha256, f.sha256);
  },
});

export const F3 = defineCase({
  id: "F3",
  name: "o-direct-refused-on-shared-files",
  groups: ["F"],
  expect: "O_DIRECT open of a fingerprinted file on a sharing mount fails with EINVAL; of an empty (never shared) file it succeeds; on a plain mount both succeed",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    // Two different images: a second mount of the same block device would reuse the first's superblock.
    const shared = await t.mount("share-a", { domain: "d1" });
    const plain = await t.mount("share-b");
    const errname = async (p: string) => {
      try {
        await t.agent.openProbe(p, ["O_RDONLY", "O_DIRECT"]);
        return "ok";
      } catch (err) {
        if (err instanceof AgentError) return err.errname ?? String(err.errno);
        throw err;
      }
    };
    t.expectEqual("O_DIRECT on a shared file", await errname(shared.path("/data/big.bin")), "EINVAL");
    t.expectEqual("O_DIRECT on an empty file of the sharing mount", await errname(shared.path("/empty")), "ok");
    t.expectEqual("O_DIRECT on the same content, plain mount", await errname(plain.path("/srv/mirror/copy-of-big.bin")), "ok");
  },
});
