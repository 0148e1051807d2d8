// The modules `npm run mutation` mutates, each with the pure test files that test it. Stryker runs
// once per module with only those tests, so the mutants of module-level tables (which every test
// covers) rerun a few fast files, not the whole set.
export interface MutationModule {
  name: string;
  /** Files (or file:line-range) to mutate. */
  mutate: string[];
  tests: string[];
}

export const MUTATION_MODULES: MutationModule[] = [
  { name: "sharing-verdict", mutate: ["harness/measure/sharing-verdict.ts"], tests: ["test/measure/sharing-verdict.test.ts"] },
  { name: "select", mutate: ["harness/runner/select.ts"], tests: ["test/runner/select.test.ts"] },
  { name: "crash", mutate: ["harness/vm/crash.ts"], tests: ["test/vm/crash.test.ts"] },
  { name: "ktap", mutate: ["harness/report/ktap.ts"], tests: ["test/report/ktap.test.ts", "test/report/status-maps.test.ts"] },
  { name: "junit", mutate: ["harness/report/junit.ts"], tests: ["test/report/junit.test.ts", "test/report/status-maps.test.ts"] },
  { name: "stats", mutate: ["harness/verdict/stats.ts"], tests: ["test/verdict/stats.test.ts"] },
  { name: "known-bugs", mutate: ["harness/verdict/known-bugs.ts"], tests: ["test/verdict/known-bugs.test.ts", "test/verdict/known-bugs-matching.test.ts"] },
  { name: "outcome", mutate: ["harness/runner/outcome.ts"], tests: ["test/runner/outcome.test.ts"] },
  { name: "kcidb", mutate: ["harness/report/kcidb.ts"], tests: ["test/report/kcidb.test.ts", "test/report/status-maps.test.ts"] },
];
