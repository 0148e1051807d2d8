import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Runs the tests start record into a temporary history, not the user's (test/history-env.ts).
    globalSetup: ["test/history-env.ts"],
    // Guest boots under TCG take seconds each; VM tests set their own longer timeouts.
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // VM-booting files would compete for the 2 cores; run files one at a time.
    fileParallelism: false,
  },
});
