// vitest global setup: runs started by the tests (`pcshare run` through the CLI) record into a
// temporary history database, never the user's; removed when the tests end.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), "pcshare-test-history-"));
  process.env.PCSHARE_HISTORY = path.join(dir, "history.sqlite");
  return () => rmSync(dir, { recursive: true, force: true });
}
