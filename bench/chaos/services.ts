import type { SandboxInfo } from './crm.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { freePort } from '../../src/runtime/redis-server.js';

/**
 * The services a chaos run owns: its own redis-server (AOF on, data in the run's temp directory, restartable
 * on the same port), its own PostgreSQL server (initdb + pg_ctl on a temp data directory and a free port,
 * restartable), the sandbox CLI and `tandem` processes. Nothing here touches the machine's shared services:
 * everything listens on 127.0.0.1 on ports picked free at start.
 */

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A redis-server with AOF in `dir`, always on the same port, so a restart finds its queues again. */
export class ChaosRedis {
  private child: ChildProcess | undefined;
  restarts = 0;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<ChaosRedis> {
    mkdirSync(dir, { recursive: true });
    const redis = new ChaosRedis(await freePort(), dir);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    await waitForPort(this.port, 20_000);
  }

  /** SIGTERM (Redis flushes the AOF on shutdown), wait, start again on the same port and directory. */
  async restart(downMs = 1_500): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.launch();
    this.restarts += 1;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const done = exited(child);
    child.kill('SIGTERM');
    await Promise.race([done, sleep(15_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
  }
}

function findPgBin(): string | undefined {
  for (const version of ['17', '16', '15', '14', '13']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

/**
 * A private PostgreSQL server: `initdb` (trust auth, loopback only) in a temp directory, `pg_ctl` to start,
 * restart and stop it. initdb refuses to run as root, so as root it runs as the `postgres` user (runuser).
 */
export class ChaosPostgres {
  restarts = 0;
  private constructor(
    private readonly bin: string,
    readonly port: number,
    private readonly dataDir: string,
    private readonly asUser: string | undefined,
  ) {}

  /** Undefined (with the reason) when this machine cannot run a private server. */
  static async start(dir: string): Promise<{ pg?: ChaosPostgres; reason?: string }> {
    const bin = findPgBin();
    if (bin === undefined) return { reason: 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin' };
    const isRoot = process.getuid?.() === 0;
    let asUser: string | undefined;
    if (isRoot) {
      const probe = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      if (probe.status !== 0) return { reason: 'running as root and there is no postgres user for initdb' };
      asUser = 'postgres';
    }
    mkdirSync(dir, { recursive: true });
    // The postgres user must reach its directory: the run's temp directory is 0700 (mkdtemp).
    chmodSync(dirname(dir), 0o755);
    chmodSync(dir, 0o777);
    if (asUser !== undefined) spawnSync('chown', ['-R', asUser, dir]);
    const dataDir = join(dir, 'data');
    const pg = new ChaosPostgres(bin, await freePort(), dataDir, asUser);
    const init = pg.run('initdb', [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    if (init.status !== 0) return { reason: `initdb failed: ${init.stderr.slice(0, 500)}` };
    writeFileSync(
      join(dataDir, 'postgresql.auto.conf'),
      [
        `port = ${pg.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        'shared_buffers = 128MB',
        '',
      ].join('\n'),
    );
    if (asUser !== undefined) spawnSync('chown', ['-R', asUser, dir]);
    const started = pg.ctl(['start', '-w', '-t', '60']);
    if (started.status !== 0) return { reason: `pg_ctl start failed: ${started.stderr.slice(0, 500)}` };
    await waitForPort(pg.port, 30_000);
    const created = pg.run('createdb', [
      '-h',
      '127.0.0.1',
      '-p',
      String(pg.port),
      '-U',
      'postgres',
      'tandem',
    ]);
    if (created.status !== 0) return { reason: `createdb failed: ${created.stderr.slice(0, 500)}` };
    return { pg };
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/tandem`;
  }

  private run(tool: string, args: string[]): { status: number | null; stderr: string } {
    const command = join(this.bin, tool);
    const result =
      this.asUser === undefined
        ? spawnSync(command, args, { encoding: 'utf8', cwd: '/tmp' })
        : spawnSync('runuser', ['-u', this.asUser, '--', command, ...args], {
            encoding: 'utf8',
            cwd: '/tmp',
          });
    return { status: result.status, stderr: `${result.stderr ?? ''}${result.stdout ?? ''}` };
  }

  private ctl(args: string[]): { status: number | null; stderr: string } {
    return this.run('pg_ctl', ['-D', this.dataDir, '-l', join(this.dataDir, 'server.log'), ...args]);
  }

  /** Fast shutdown (open connections are cut), a pause, start again. */
  async restart(downMs = 1_500): Promise<void> {
    const stopped = this.ctl(['stop', '-m', 'fast', '-w', '-t', '60']);
    if (stopped.status !== 0) throw new Error(`pg_ctl stop failed: ${stopped.stderr}`);
    await sleep(downMs);
    const started = this.ctl(['start', '-w', '-t', '60']);
    if (started.status !== 0) throw new Error(`pg_ctl start failed: ${started.stderr}`);
    this.restarts += 1;
  }

  stop(): void {
    this.ctl(['stop', '-m', 'immediate', '-w', '-t', '30']);
  }
}

/** A long-running `node bin/tandem.js …` whose output goes to a log buffer (last 64 KB kept). */
export class TandemProcess {
  private log = '';
  readonly child: ChildProcess;
  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['bin/tandem.js', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString()).slice(-65_536);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  output(): string {
    return this.log;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log)) {
      if (!this.alive) throw new Error(`${this.name} exited: ${this.log.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in ${timeoutMs} ms: ${this.log}`);
      await sleep(100);
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.alive) return;
    const done = exited(this.child);
    this.child.kill('SIGTERM');
    await Promise.race([done, sleep(timeoutMs)]);
    if (this.alive) this.child.kill('SIGKILL');
    await done;
  }
}

/** Runs `node bin/tandem.js …` to completion (bounded by `timeoutMs`, then SIGKILL). */
export function runTandem(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/tandem.js', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-65_536)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `tandem sandbox --json …` as a child process, once its first JSON line (URLs and credentials) is out. */
export async function startSandboxProcess(
  args: string[],
  timeoutMs: number,
): Promise<{ sandbox: TandemProcess; info: SandboxInfo }> {
  const sandbox = new TandemProcess('sandbox', ['sandbox', '--json', ...args], {});
  try {
    await sandbox.waitFor(/^\{.*\}\s*$/m, timeoutMs);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  const line = sandbox
    .output()
    .split('\n')
    .find((l) => l.startsWith('{'));
  return { sandbox, info: JSON.parse(line ?? '{}') as SandboxInfo };
}
