// Finds or starts the Redis the demo needs, in the order least surprising to a first-time user: the one
// REDIS_URL names, one already running locally, a private redis-server of our own, and — only as root on
// Debian, and only when allowed — Debian's package installed for them. Otherwise it says what to run.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';
export const INSTALLING_MESSAGE = "Installing Debian's redis-server (running as root with apt-get)…";

export type RedisSource = 'env' | 'local' | 'private' | 'installed';

export interface EnsuredRedis {
  url: string;
  source: RedisSource;
  /** Stops the private redis-server if we started one; leaves anyone else's Redis alone. */
  stop(): Promise<void>;
}

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Each step that touches the system, injectable so tests can walk every branch. */
export interface EnsureRedisSteps {
  /** Connects and sends PING. */
  probe(url: string): Promise<ProbeResult>;
  /** The path of `command` on PATH, or undefined. */
  which(command: string): Promise<string | undefined>;
  isRoot(): boolean;
  /** `apt-get update && apt-get install -y redis-server`. */
  installRedisServer(): Promise<void>;
  /** Starts redis-server on a free loopback port with its data (AOF on) in `dir`. */
  startPrivate(dir: string): Promise<PrivateRedis>;
}

export interface EnsureRedisOptions {
  redisUrl?: string | undefined;
  /** Tandem's data directory; a private Redis keeps its data in `<dataDir>/redis`. */
  dataDir: string;
  log: (line: string) => void;
  /** May we install Debian's redis-server (as root with apt-get)? */
  allowInstall: boolean;
  steps?: Partial<EnsureRedisSteps>;
}

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * @example
 * const redis = await ensureRedis({ redisUrl: config.redis.url, dataDir: config.dataDir, log: console.log, allowInstall: true });
 * // … run the demo against redis.url …
 * await redis.stop();
 */
export async function ensureRedis(options: EnsureRedisOptions): Promise<EnsuredRedis> {
  const steps: EnsureRedisSteps = { ...defaultRedisSteps, ...options.steps };
  const { log } = options;
  const nothingToStop = async (): Promise<void> => {};

  if (options.redisUrl !== undefined && options.redisUrl !== '') {
    const answer = await steps.probe(options.redisUrl);
    if (!answer.ok) {
      throw new RedisUnavailableError(
        `REDIS_URL=${maskPassword(options.redisUrl)} does not answer PING (${answer.reason}). ` +
          'Start that Redis, fix REDIS_URL, or unset it to let Tandem find or start one.',
      );
    }
    log(`Using Redis at ${maskPassword(options.redisUrl)} (REDIS_URL).`);
    return { url: options.redisUrl, source: 'env', stop: nothingToStop };
  }

  const local = await steps.probe(LOCAL_REDIS_URL);
  if (local.ok) {
    log(`Using the Redis already running at ${LOCAL_REDIS_URL}.`);
    return { url: LOCAL_REDIS_URL, source: 'local', stop: nothingToStop };
  }

  const dir = join(options.dataDir, 'redis');
  if ((await steps.which('redis-server')) !== undefined) {
    const redis = await steps.startPrivate(dir);
    log(`Started a private redis-server at ${redis.url} (data in ${dir}).`);
    return { url: redis.url, source: 'private', stop: () => redis.stop() };
  }

  const root = steps.isRoot();
  const aptGet = await steps.which('apt-get');
  if (root && aptGet !== undefined && options.allowInstall) {
    log(INSTALLING_MESSAGE);
    await steps.installRedisServer();
    const redis = await steps.startPrivate(dir);
    log(`Started a private redis-server at ${redis.url} (data in ${dir}).`);
    return { url: redis.url, source: 'installed', stop: () => redis.stop() };
  }

  const whyNotInstalled = !options.allowInstall
    ? 'installing it was not allowed'
    : aptGet === undefined
      ? 'apt-get is not available'
      : 'not running as root';
  throw new RedisUnavailableError(
    [
      'Tandem needs Redis and could not find or start one:',
      '  - REDIS_URL is not set',
      `  - nothing answers on ${LOCAL_REDIS_URL} (${local.reason})`,
      '  - redis-server is not on PATH',
      `  - Debian's redis-server was not installed: ${whyNotInstalled}`,
      'Install and start Redis with one of:',
      '  Debian/Ubuntu:  sudo apt-get install redis-server',
      '  macOS:          brew install redis && brew services start redis',
      '  Docker:         docker compose up -d redis   (from the Tandem repository)',
      'or set REDIS_URL to a Redis you already run.',
    ].join('\n'),
  );
}

function maskPassword(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

// --- the real steps -------------------------------------------------------------------------------------

async function probe(url: string): Promise<ProbeResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported through the rejected connect/ping below
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? { ok: true } : { ok: false, reason: `PING answered ${pong}` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    client.disconnect();
  }
}

function which(command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', 'command -v "$1"', 'sh', command], (error, stdout) => {
      const path = stdout.trim();
      resolve(error === null && path !== '' ? path : undefined);
    });
  });
}

function run(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`\`${command}\` exited with code ${String(code)}`)),
    );
  });
}

export const defaultRedisSteps: EnsureRedisSteps = {
  probe,
  which,
  isRoot: () => process.getuid?.() === 0,
  installRedisServer: async () => {
    await run('apt-get update');
    await run('DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server');
  },
  startPrivate: async (dir) => {
    mkdirSync(dir, { recursive: true });
    return startPrivateRedis({ dir, appendonly: true });
  },
};
