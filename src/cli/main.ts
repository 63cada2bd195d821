import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { CliError, ExitCode } from './exit-codes.js';

const program = new Command();
program
  .name('tandem')
  .description(
    'Keeps HubSpot and Salesforce in step: one customer view, one lead status, honest attribution.',
  )
  .showHelpAfterError()
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  } else if (error instanceof CliError) {
    process.stderr.write(`tandem: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(
      `tandem: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = ExitCode.Internal;
  }
}
