// Small filesystem questions asked across the harness: does a path exist, which of several
// candidate files is there.
import { stat } from "node:fs/promises";

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The first of `paths` that is a regular file, if any. */
export async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
