// Commander's usage errors (an unknown option, a missing argument or required option, too many
// arguments) handled as every other bad input: one line naming what is wrong and where the usage is,
// exit status 2. `--help` and `--version` still print and exit 0. Shared by bin/pcshare and
// scripts/nightly.ts.
import { CommanderError, type Command } from "commander";

/** The subcommand words of argv that name commands of `program` ("kcidb submit"). */
function commandPath(program: Command, argv: string[]): string[] {
  const words: string[] = [];
  let cmd: Command | undefined = program;
  for (const a of argv) {
    const sub: Command | undefined = cmd?.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) continue; // an option or its value, or an argument
    cmd = sub;
    words.push(a);
  }
  return words;
}

/** Call before adding subcommands (they inherit the setting). `invocation` is how a user starts the program. */
export function oneLineUsageErrors(program: Command, name: string, invocation = name, argv = process.argv.slice(2)): Command {
  return program.exitOverride().configureOutput({
    outputError: (str, write) => {
      const what = str.trim().replace(/^error: /, "").replace(/\.$/, "");
      write(`${name}: ${what}; see \`${[invocation, ...commandPath(program, argv), "--help"].join(" ")}\`\n`);
    },
  });
}

/** The exit status for an error a command's parse ended with, or undefined when it is not commander's. */
export function usageExitCode(err: unknown): number | undefined {
  if (!(err instanceof CommanderError)) return undefined;
  return err.exitCode === 0 ? 0 : 2;
}
