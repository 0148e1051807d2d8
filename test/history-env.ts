// vitest global setup: runs started by the tests (`pcshare run` through the CLI) record into a
// temporary history database, never the user's; removed when the tests end. The directory names its
// owner (harness/util/temp.ts), so one left by a killed test run is swept by the next.
import { rm } from "node:fs/promises";
import path from "node:path";
import { ownedTempDir } from "../harness/util/temp.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await ownedTempDir("pcshare-test-history-");
  process.env.PCSHARE_HISTORY = path.join(dir, "history.sqlite");
  return () => rm(dir, { recursive: true, force: true });
}
