// The pure test files of the module Stryker is mutating (PCSHARE_MUTATION_TESTS, comma-separated, set by
// scripts/mutation.ts from scripts/mutation-modules.ts). None of them boots a guest or builds anything.
import { defineConfig } from "vitest/config";
import { MUTATION_MODULES } from "./scripts/mutation-modules.ts";

const tests = process.env.PCSHARE_MUTATION_TESTS?.split(",") ?? [...new Set(MUTATION_MODULES.flatMap((m) => m.tests))];

export default defineConfig({ test: { include: tests } });
