// Test helper: temporary directories that are removed after the test file (afterAll).
import { mkdtemp, rm } from "node:fs/promises";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

export async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(prefix);
  made.push(d);
  return d;
}
