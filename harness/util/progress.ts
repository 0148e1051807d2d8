// Progress lines for long steps (downloads, builds, boots) on stderr, so stdout stays machine-readable.
// On a terminal a step prints "... " then "done (1.2 s)"; elsewhere (CI logs) one line per event.

export interface Step {
  ok(detail?: string): void;
  fail(detail?: string): void;
  update(detail: string): void;
}

const quiet = () => process.env.PCSHARE_QUIET === "1";

export function progress(title: string): Step {
  const start = Date.now();
  const tty = process.stderr.isTTY;
  const elapsed = () => `${((Date.now() - start) / 1000).toFixed(1)} s`;
  if (!quiet()) process.stderr.write(tty ? `${title} ... ` : `${title} ...\n`);
  let last = 0;
  return {
    update(detail: string) {
      if (quiet()) return;
      if (tty) process.stderr.write(`\r\x1b[K${title} ... ${detail} `);
      else if (Date.now() - last > 10_000) {
        last = Date.now();
        process.stderr.write(`  ${title}: ${detail}\n`);
      }
    },
    ok(detail?: string) {
      if (quiet()) return;
      const msg = `done (${elapsed()}${detail ? `, ${detail}` : ""})`;
      process.stderr.write(tty ? `\r\x1b[K${title} ... ${msg}\n` : `  ${title}: ${msg}\n`);
    },
    fail(detail?: string) {
      if (quiet()) return;
      const msg = `failed after ${elapsed()}${detail ? `: ${detail}` : ""}`;
      process.stderr.write(tty ? `\r\x1b[K${title} ... ${msg}\n` : `  ${title}: ${msg}\n`);
    },
  };
}
