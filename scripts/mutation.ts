// `npm run mutation [-- NAME... [STRYKER OPTIONS]]`: Stryker on each pure verdict module
// (scripts/mutation-modules.ts) with only its own tests, one module after another, then every module's
// score (scripts/mutation-scores.ts). From the first argument that starts with "-" on, the arguments go
// to `stryker run` (e.g. `--concurrency 1` on a shared machine). Exits 1 when Stryker fails or a module
// scores under 90 %.
import { execa } from "execa";
import { MUTATION_MODULES } from "./mutation-modules.ts";

const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith("-"));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const strykerOptions = firstOption < 0 ? [] : args.slice(firstOption);
const unknown = wanted.filter((n) => !MUTATION_MODULES.some((m) => m.name === n));
if (unknown.length) {
  console.error(`unknown module ${unknown.join(", ")}; known: ${MUTATION_MODULES.map((m) => m.name).join(", ")}`);
  process.exit(2);
}
const started = Date.now();
for (const m of MUTATION_MODULES.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
  const t0 = Date.now();
  console.log(`== ${m.name}: ${m.mutate.join(" ")} with ${m.tests.join(" ")}`);
  await execa("npx", ["stryker", "run", ...strykerOptions], { stdio: "inherit", env: { PCSHARE_MUTATION_MODULE: m.name, PCSHARE_MUTATION_MUTATE: m.mutate.join(","), PCSHARE_MUTATION_TESTS: m.tests.join(",") } });
  console.log(`== ${m.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`mutation testing took ${((Date.now() - started) / 1000).toFixed(0)} s`);
await execa("npx", ["tsx", "scripts/mutation-scores.ts"], { stdio: "inherit" });
