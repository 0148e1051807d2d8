// The review concerns the cases reproduce, as data: each case with a `concern` names one of these
// tags (`concernTag`), and `pcshare concerns` prints, per concern, what a kernel does in those cases.
export const CONCERNS = {
  "trust-boundary": "trust boundary: domain_id separates tenants and is a secret shared only within a domain",
  "unexpected-data": "what prevents sneaking unexpected data in: forged fingerprints, fsck --xattr-inode-digest",
  lifetime: "lifetime rules: the inode that serves shared I/O versus unmount and module unload",
  "blob-removal": "what happens if the blob (a file-backed mount's backing file, a remounted device) goes away",
  remount: "remount paths that turn sharing on after mount",
  "sub-page-blocks": "wrong data for sub-page blocks with sharing on",
  "memory-accounting": "whose memory cgroup pays for shared pages, and what one tenant's pressure does to another",
} as const;

export type ConcernTag = keyof typeof CONCERNS;
