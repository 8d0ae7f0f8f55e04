/** One `holoserve <sub>` subcommand (src/cli/commands/<sub>.ts; contract in AREAS.md). */
export interface Command {
  name: string;
  summary: string; // one line for `holoserve --help`
  /** argv after the subcommand name; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
