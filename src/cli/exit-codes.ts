/** Exit codes that mean something to scripts and schedulers. */
export const ExitCode = {
  Ok: 0,
  /** The command ran but found problems (invalid mapping, failed records, systems disagree). */
  Problems: 1,
  /** Bad command line or configuration. */
  Usage: 2,
  /** A system (Redis, PostgreSQL, HubSpot, Salesforce) could not be reached or refused us. */
  Unavailable: 3,
  /** A bug: an error Tandem did not expect. */
  Internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the person at the terminal, with the exit code to use. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Problems,
  ) {
    super(message);
  }
}
