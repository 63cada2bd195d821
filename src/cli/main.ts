import { Command } from 'commander';

const program = new Command();
program
  .name('tandem')
  .description(
    'Keeps HubSpot and Salesforce in step: one customer view, one lead status, honest attribution.',
  );

await program.parseAsync(process.argv);
