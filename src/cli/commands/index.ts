import type { Command } from 'commander';
import { registerDashboardCommand } from './dashboard.js';
import { registerMappingsCommand } from './mappings.js';
import { registerSandboxCommand } from './sandbox.js';

/** Each command module registers itself on the program; add new ones here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerMappingsCommand,
  registerSandboxCommand,
  registerDashboardCommand,
];
