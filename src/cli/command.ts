/** One `holoserve <sub>` command (src/cli/main.ts dispatches; the contract in the team's AREAS). */
export interface Command {
  name: string;
  summary: string; // one line for `holoserve --help`
  /** argv after the subcommand name; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
