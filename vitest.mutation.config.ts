// The fast, pure test files that cover the verdict code, for `npm run mutation` (stryker.config.mjs).
// No test here boots a guest or builds anything: each runs in milliseconds, so Stryker can rerun them
// for every mutant.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/measure/sharing-verdict.test.ts",
      "test/vm/crash.test.ts",
      "test/runner/select.test.ts",
      "test/report/ktap.test.ts",
      "test/report/junit.test.ts",
      "test/report/kcidb.test.ts",
      "test/report/readable.test.ts",
      "test/report/status-maps.test.ts",
    ],
  },
});
