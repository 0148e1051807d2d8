// Mutation testing of the pure verdict code (`npm run mutation`, scripts/mutation.ts; not part of
// `npm test`). One Stryker run per module of scripts/mutation-modules.ts; scripts/mutation.ts names it
// in PCSHARE_MUTATION_MODULE and its files in PCSHARE_MUTATION_MUTATE (comma-separated). Stryker mutates
// only those and reruns, per mutant, only the tests that cover it among the module's own pure test files
// (PCSHARE_MUTATION_TESTS, read by vitest.mutation.config.ts; per-test coverage).
// @ts-check
const name = process.env.PCSHARE_MUTATION_MODULE;
const mutate = process.env.PCSHARE_MUTATION_MUTATE?.split(",");
if (!name || !mutate) throw new Error("run Stryker through npm run mutation (scripts/mutation.ts), which names the module");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  coverageAnalysis: "perTest",
  mutate,
  checkers: [],
  concurrency: 2,
  // The tests take milliseconds; a mutant that runs 5 s longer than them loops (regex backtracking, an endless while).
  timeoutMS: 5000,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false },
  // The 90 % bar is checked per module by scripts/mutation-scores.ts.
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: ["results", "reports", ".stryker-tmp"],
};
