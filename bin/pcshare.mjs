// Entry point of bin/pcshare: registers tsx's TypeScript loader in this process and runs the CLI.
// One process (no `tsx` wrapper in front of it), so a signal sent to pcshare reaches the code that
// stops QEMU and make and removes temporary directories.
import { register } from "tsx/esm/api";

register();
await import("../harness/cli.ts");
