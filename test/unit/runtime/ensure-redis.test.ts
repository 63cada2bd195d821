import { describe, expect, it } from '@jest/globals';
import {
  ensureRedis,
  INSTALLING_MESSAGE,
  RedisUnavailableError,
  type EnsureRedisSteps,
  type RedisSource,
} from '../../../src/runtime/ensure-redis.js';

interface World {
  answering: readonly string[];
  onPath: readonly string[];
  root: boolean;
  installFails?: boolean;
}

/** Fake system: records every step taken, in order. */
function fakeSteps(world: World): { steps: EnsureRedisSteps; calls: string[] } {
  const calls: string[] = [];
  const onPath = new Set(world.onPath);
  const steps: EnsureRedisSteps = {
    probe: async (url) => {
      calls.push(`probe ${url}`);
      return world.answering.includes(url) ? { ok: true } : { ok: false, reason: 'connect ECONNREFUSED' };
    },
    which: async (command) => {
      calls.push(`which ${command}`);
      return onPath.has(command) ? `/usr/bin/${command}` : undefined;
    },
    isRoot: () => world.root,
    installRedisServer: async () => {
      calls.push('install');
      if (world.installFails === true) throw new Error('`apt-get update` exited with code 100');
      onPath.add('redis-server');
    },
    startPrivate: async (dir) => {
      calls.push(`start ${dir}`);
      return {
        url: 'redis://127.0.0.1:40001',
        stop: async () => void calls.push('stop private'),
      };
    },
  };
  return { steps, calls };
}

const NONE: World = { answering: [], onPath: [], root: false };

describe('ensureRedis', () => {
  const found: [
    string,
    { redisUrl?: string; allowInstall?: boolean },
    World,
    RedisSource,
    string,
    string[],
    string,
  ][] = [
    [
      'REDIS_URL when it answers',
      { redisUrl: 'redis://:pw@cache:6379/1' },
      { ...NONE, answering: ['redis://:pw@cache:6379/1', 'redis://127.0.0.1:6379'] },
      'env',
      'redis://:pw@cache:6379/1',
      ['probe redis://:pw@cache:6379/1'],
      'Using Redis at redis://:***@cache:6379/1 (REDIS_URL).',
    ],
    [
      'the local Redis on 6379',
      {},
      { ...NONE, answering: ['redis://127.0.0.1:6379'], onPath: ['redis-server'] },
      'local',
      'redis://127.0.0.1:6379',
      ['probe redis://127.0.0.1:6379'],
      'Using the Redis already running at redis://127.0.0.1:6379.',
    ],
    [
      'a private redis-server from PATH',
      {},
      { ...NONE, onPath: ['redis-server', 'apt-get'], root: true },
      'private',
      'redis://127.0.0.1:40001',
      ['probe redis://127.0.0.1:6379', 'which redis-server', 'start /srv/tandem/redis'],
      'Started a private redis-server at redis://127.0.0.1:40001 (data in /srv/tandem/redis).',
    ],
    [
      "Debian's redis-server, installed as root",
      { allowInstall: true },
      { ...NONE, onPath: ['apt-get'], root: true },
      'installed',
      'redis://127.0.0.1:40001',
      [
        'probe redis://127.0.0.1:6379',
        'which redis-server',
        'which apt-get',
        'install',
        'start /srv/tandem/redis',
      ],
      'Started a private redis-server at redis://127.0.0.1:40001 (data in /srv/tandem/redis).',
    ],
  ];

  it.each(found)('uses %s', async (_name, options, world, source, url, expectedCalls, lastLine) => {
    const { steps, calls } = fakeSteps(world);
    const lines: string[] = [];
    const redis = await ensureRedis({
      dataDir: '/srv/tandem',
      log: (line) => lines.push(line),
      allowInstall: options.allowInstall ?? false,
      redisUrl: options.redisUrl,
      steps,
    });
    expect({ source: redis.source, url: redis.url }).toEqual({ source, url });
    expect(calls).toEqual(expectedCalls);
    expect(lines.at(-1)).toBe(lastLine);
    if (source === 'installed') expect(lines[0]).toBe(INSTALLING_MESSAGE);
    await redis.stop();
    expect(calls.includes('stop private')).toBe(source === 'private' || source === 'installed');
  });

  it('fails clearly when REDIS_URL does not answer, without trying anything else', async () => {
    const { steps, calls } = fakeSteps({
      ...NONE,
      answering: ['redis://127.0.0.1:6379'],
      onPath: ['redis-server'],
    });
    await expect(
      ensureRedis({
        redisUrl: 'redis://admin:s3cret@cache:6379',
        dataDir: '/d',
        log: () => {},
        allowInstall: true,
        steps,
      }),
    ).rejects.toThrow(
      new RedisUnavailableError(
        'REDIS_URL=redis://admin:***@cache:6379 does not answer PING (connect ECONNREFUSED). Start that Redis, fix REDIS_URL, or unset it to let Tandem find or start one.',
      ),
    );
    expect(calls).toEqual(['probe redis://admin:s3cret@cache:6379']);
  });

  const instructions = (why: string): string =>
    [
      'Tandem needs Redis and could not find or start one:',
      '  - REDIS_URL is not set',
      '  - nothing answers on redis://127.0.0.1:6379 (connect ECONNREFUSED)',
      '  - redis-server is not on PATH',
      `  - Debian's redis-server was not installed: ${why}`,
      'Install and start Redis with one of:',
      '  Debian/Ubuntu:  sudo apt-get install redis-server',
      '  macOS:          brew install redis && brew services start redis',
      '  Docker:         docker compose up -d redis   (from the Tandem repository)',
      'or set REDIS_URL to a Redis you already run.',
    ].join('\n');

  it.each<[string, World, boolean, string]>([
    ['not root', { ...NONE, onPath: ['apt-get'] }, true, 'not running as root'],
    ['no apt-get (macOS)', { ...NONE, root: true }, true, 'apt-get is not available'],
    [
      'installing not allowed',
      { ...NONE, onPath: ['apt-get'], root: true },
      false,
      'installing it was not allowed',
    ],
  ])('prints what to run when %s', async (_name, world, allowInstall, why) => {
    const { steps, calls } = fakeSteps(world);
    await expect(ensureRedis({ dataDir: '/d', log: () => {}, allowInstall, steps })).rejects.toThrow(
      new RedisUnavailableError(instructions(why)),
    );
    expect(calls).not.toContain('install');
  });

  it('passes on a failed install', async () => {
    const { steps, calls } = fakeSteps({ ...NONE, onPath: ['apt-get'], root: true, installFails: true });
    await expect(ensureRedis({ dataDir: '/d', log: () => {}, allowInstall: true, steps })).rejects.toThrow(
      '`apt-get update` exited with code 100',
    );
    expect(calls.at(-1)).toBe('install');
  });
});
