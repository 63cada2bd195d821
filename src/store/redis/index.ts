export { CheckpointStore, CorruptCheckpointError } from './checkpoints.js';
export { ParkedRecords, type ParkedRecord } from './parked-records.js';
export { PlanVersions, PLAN_TTL_SECONDS } from './plans.js';
export { RedisKeys } from './keys.js';
export { LastWrittenStore, type WrittenField, type WrittenValue } from './last-written.js';
export { LeaseLocks, LockBusyError, LockLostError, type Lease } from './locks.js';
