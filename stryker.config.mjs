// Mutation testing of the pure verdict code (`npm run mutation`; not part of `npm test`): Stryker
// mutates only the files below and reruns, per mutant, only the pure tests that cover it
// (vitest.mutation.config.ts, per-test coverage analysis). Every module must keep a score >= 90 %.
// @ts-check
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  coverageAnalysis: "perTest",
  mutate: [
    "harness/measure/sharing-verdict.ts",
    "harness/vm/crash.ts",
    "harness/runner/select.ts",
    "harness/report/ktap.ts",
    "harness/report/junit.ts",
    "harness/report/kcidb.ts",
  ],
  checkers: [],
  concurrency: 2,
  // The tests take milliseconds; a mutant that runs 3 s longer than them loops (regex backtracking, an endless while).
  timeoutMS: 3000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  // The 90 % bar is checked per module by scripts/mutation-scores.ts.
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: ["results", "reports", ".stryker-tmp"],
};
