/** One `holoserve <sub>` subcommand (src/cli/commands/<sub>.ts; contract in AREAS.md). */
export interface Command {
  name: string;
  summary: string; // one line for `holoserve --help`
  /** `holoserve <sub> --help`; also printed under a bad-flag error (main.ts) */
  help: string | (() => string);
  /** argv after the subcommand name; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
