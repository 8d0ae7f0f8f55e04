/** One `holoserve <sub>` command (src/cli/commands/<sub>.ts exports `command`). */
export interface Command {
  name: string;
  /** one line for `holoserve --help` */
  summary: string;
  /** argv after the subcommand name; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
