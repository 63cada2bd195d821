import type { Command } from 'commander';
import { registerBackfillCommand } from './backfill.js';
import { registerDashboardCommand } from './dashboard.js';
import { registerDemoCommand } from './demo.js';
import { registerMappingsCommand } from './mappings.js';
import { registerRebuildCommand } from './rebuild.js';
import { registerReplayCommand } from './replay.js';
import { registerSandboxCommand } from './sandbox.js';
import { registerSchedulerCommand } from './scheduler.js';
import { registerStatusCommand } from './status.js';
import { registerSyncCommand } from './sync.js';
import { registerWorkerCommand } from './worker.js';

/** Each command module registers itself on the program; add new ones here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerMappingsCommand,
  registerSandboxCommand,
  registerDashboardCommand,
  registerSyncCommand,
  registerWorkerCommand,
  registerSchedulerCommand,
  registerStatusCommand,
  registerReplayCommand,
  registerBackfillCommand,
  registerRebuildCommand,
  registerDemoCommand,
];
