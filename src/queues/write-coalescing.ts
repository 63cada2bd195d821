import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RecordWrite } from '../domain/write-plan.js';
import { BATCH_LIMIT } from '../pipeline/batches.js';
import type { WriteBatch } from '../pipeline/contract.js';
import type { WriteBackJobData } from './jobs.js';

/**
 * Write-back batches join a batch still waiting in the queue. Each reconcile job plans its own batches,
 * and a back-fill's reconcile jobs each hold a few hundred persons spread over several objects: on their
 * own, most write-back jobs would send half-full API batches (and, for Salesforce, one `Id IN` check per
 * call). While the write-back workers are busy, a new batch for the same system, object, priority, cycle
 * and mapping version is appended to the newest such job that has not started, up to the API's batch size
 * (`BATCH_LIMIT`; a batch that does not fit fills the room left and the rest becomes a new job); otherwise
 * it becomes a job of its own. Nothing waits to be coalesced: when a worker is free, the batch runs at
 * once, alone.
 *
 * Atomic by a Lua script: a job is appended to only while it sits in the queue's `prioritized` set (every
 * Tandem job has a priority), so never once a worker took it, nor while it waits out a retry's backoff
 * (`delayed`). The writes stay in the job's own data, the unit of durability, as before. The script appends
 * to the JSON text BullMQ stored (`data` ends with the `writes` array: see `writeBackJobData`), so the
 * other writes are never parsed, and it refuses a job whose data does not end that way.
 */
const APPEND_SCRIPT = `
local id = redis.call('HGET', KEYS[1], 'job')
if not id then return false end
if not redis.call('ZSCORE', KEYS[2], id) then return false end
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local take = math.min(#ARGV - 2, tonumber(ARGV[2]) - count)
if take <= 0 then return false end
local jobKey = ARGV[1] .. id
local data = redis.call('HGET', jobKey, 'data')
if not data or string.sub(data, -3) ~= ']}}' then return false end
local writes = {}
for i = 1, take do writes[i] = ARGV[i + 2] end
redis.call('HSET', jobKey, 'data', string.sub(data, 1, -4) .. ',' .. table.concat(writes, ',') .. ']}}')
redis.call('HSET', KEYS[1], 'count', count + take)
return {id, take}
`;

/** How long an open batch's pointer lives without being renewed by a new job. */
const OPEN_TTL_MS = 60 * 60 * 1000;

interface AppendingClient extends Redis {
  /** Appends the first writes (each its JSON) that fit: the job's id and how many, or null. */
  tandemAppendWriteBack(
    openKey: string,
    prioritizedKey: string,
    jobKeyPrefix: string,
    limit: number,
    ...writesJson: string[]
  ): Promise<[string, number] | null>;
}

const defined = new WeakSet<object>();

/** The ioredis client the queue was opened with (`openQueues`); undefined for connection options. */
function connectionOf(queue: Queue): Redis | undefined {
  const connection = queue.opts.connection as Partial<Redis> | undefined;
  return typeof connection?.defineCommand === 'function' ? (connection as Redis) : undefined;
}

function appendingClient(queue: Queue): AppendingClient | undefined {
  const client = connectionOf(queue);
  if (client === undefined) return undefined;
  if (!defined.has(client)) {
    client.defineCommand('tandemAppendWriteBack', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    defined.add(client);
  }
  return client as AppendingClient;
}

/**
 * A write-back job's data with the batch's `writes` as the very last thing in its JSON text, which is what
 * lets `APPEND_SCRIPT` extend it.
 */
export function writeBackJobData(batch: WriteBatch, cycleId: string | undefined): WriteBackJobData {
  return {
    ...(cycleId === undefined ? {} : { cycleId }),
    batch: {
      system: batch.system,
      object: batch.object,
      mappingVersion: batch.mappingVersion,
      key: batch.key,
      writes: batch.writes,
    },
  };
}

/** The open batch of one system, object, priority, cycle and mapping version (a key of the queue's own). */
export function openBatchKey(queue: Queue, batch: WriteBatch, priority: number, cycleId?: string): string {
  return queue.toKey(
    `open:${batch.system}:${batch.object}:${priority}:${batch.mappingVersion}:${cycleId ?? ''}`,
  );
}

/**
 * Appends as many of the writes as the open job has room for, if it still waits: returns that job's id
 * and the writes left over (all of them when none joined).
 */
export async function appendToOpenBatch(
  queue: Queue,
  openKey: string,
  writes: readonly RecordWrite[],
  limit: number = BATCH_LIMIT[writes[0]?.system ?? 'hubspot'],
): Promise<{ jobId?: string; rest: readonly RecordWrite[] }> {
  const client = appendingClient(queue);
  if (client === undefined || writes.length === 0 || writes.length >= limit) return { rest: writes };
  const joined = await client.tandemAppendWriteBack(
    openKey,
    queue.toKey('prioritized'),
    queue.toKey(''),
    limit,
    ...writes.map((w) => JSON.stringify(w)),
  );
  if (joined === null) return { rest: writes };
  const [jobId, taken] = joined;
  return { jobId, rest: writes.slice(taken) };
}

/** Makes a job just added the open batch for its key, holding `count` writes. */
export async function openBatch(queue: Queue, openKey: string, jobId: string, count: number): Promise<void> {
  const client = connectionOf(queue);
  await client?.multi().hset(openKey, 'job', jobId, 'count', count).pexpire(openKey, OPEN_TTL_MS).exec();
}
