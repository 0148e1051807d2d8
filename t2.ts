import { debianKernel } from "./harness/kernel/debian.ts";
const t = Date.now();
const k = await debianKernel(process.argv[2] ?? "sid");
console.log(JSON.stringify(k, null, 1).slice(0, 1500), Date.now() - t, "ms");
