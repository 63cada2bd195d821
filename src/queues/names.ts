/**
 * Every queue Tandem uses, in one place. Jobs flow pull → reconcile → write-back; a record the CRM
 * rejects for good is kept as its own failed `write-back` job, replayable once the cause is fixed.
 */
export const QueueName = {
  Pull: 'pull',
  Reconcile: 'reconcile',
  WriteBack: 'write-back',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = [QueueName.Pull, QueueName.Reconcile, QueueName.WriteBack];

/**
 * BullMQ key prefix for a configured Redis prefix. The braces are a Redis Cluster hash tag: every key of
 * every queue lands in one slot, which BullMQ's multi-key Lua scripts need.
 */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}}:bull`;
}

/** Job priorities (lower runs first): incremental sync must never wait behind a back-fill. */
export const Priority = {
  Replay: 1,
  Incremental: 5,
  Backfill: 20,
  Rebuild: 50,
} as const;

/** How long finished jobs are kept: failures long enough for an admin to see and replay them. */
export const Retention = {
  completedAgeSeconds: 24 * 60 * 60,
  completedCount: 10_000,
} as const;
