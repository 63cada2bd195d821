/**
 * Process management for the end-to-end benchmark: the sandboxes in their own process, `tandem worker`
 * processes, peak RSS from `/proc/<pid>/status`, and sandbox stats over HTTP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SandboxCredentials, SandboxWorldSummary } from '../../src/sandbox/index.js';
import type { SandboxStatsSnapshot } from '../../src/sandbox/common/stats.js';

export interface Child {
  name: string;
  process: ChildProcess;
  /** Last lines of stderr, for error messages. */
  tail(): string;
}

function track(name: string, child: ChildProcess): Child {
  const lines: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n'));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  });
  return { name, process: child, tail: () => lines.join('\n').trim().slice(-1500) };
}

export interface SandboxProcess extends Child {
  credentials: SandboxCredentials;
  world: SandboxWorldSummary;
}

export async function startSandboxProcess(options: {
  seed: string;
  persons: number;
  tier: 'free' | 'starter' | 'professional' | 'enterprise';
}): Promise<SandboxProcess> {
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=8192',
      'bin/tandem.js',
      'sandbox',
      '--json',
      '--hubspot-port',
      '0',
      '--salesforce-port',
      '0',
      '--seed',
      options.seed,
      '--persons',
      String(options.persons),
      '--hubspot-tier',
      options.tier,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tracked = track('sandbox', child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${tracked.tail()}`)));
  });
  const parsed = JSON.parse(line) as SandboxCredentials & { world: SandboxProcess['world'] };
  return { ...tracked, credentials: parsed, world: parsed.world };
}

/**
 * Workers run the compiled build, as the Docker image does: through tsx each would carry the TypeScript
 * compiler's ~85 MB as well (see the README's memory notes).
 */
export function buildTandem(): void {
  const built = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error(`npm run build failed with ${built.status}`);
}

/** The V8 heap cap docker-compose gives each worker; `BENCH_WORKER_HEAP_MB=0` runs without one. */
const WORKER_HEAP_MB = Number(process.env['BENCH_WORKER_HEAP_MB'] ?? 160);

export async function startWorker(env: Record<string, string>, index: number): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env['BENCH_CPU_PROF_DIR'] === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_CPU_PROF_DIR']]),
      ...(WORKER_HEAP_MB > 0 ? [`--max-old-space-size=${WORKER_HEAP_MB}`] : []),
      'dist/src/cli/main.js',
      'worker',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  const tracked = track(`worker-${index}`, child);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      if (/Tandem worker \d+ running/.test(chunk.toString())) {
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${tracked.tail()}`)));
  });
  // A worker that dies mid-run (e.g. out of heap under the cap) leaves its jobs stalled and the cycle waiting:
  // say so, with its last output.
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      process.stderr.write(`[e2e] worker-${index} exited (${code ?? signal}): ${tracked.tail()}\n`);
  });
  return tracked;
}

/** Peak resident set size (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match === null ? undefined : Math.round(Number(match[1]) / 1024);
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: what /proc reports CPU times in on Linux

/** CPU seconds (user + system) a live process has used so far, from `/proc/<pid>/stat`. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The whole machine's CPU seconds so far, busy and in all (every CPU), from `/proc/stat`. */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idleAll = (idle ?? 0) + (iowait ?? 0);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((n, v) => n + (v ?? 0), 0);
    return { busy: busy / CLOCK_TICKS_PER_SECOND, total: (busy + idleAll) / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child: Child, graceMs = 30_000): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export type SalesforceStats = SandboxStatsSnapshot & { apiUsage: { used: number; max: number } };

export async function sandboxStats<T extends SandboxStatsSnapshot>(baseUrl: string): Promise<T> {
  const response = await fetch(`${baseUrl}/__sandbox/stats`);
  if (!response.ok) throw new Error(`GET ${baseUrl}/__sandbox/stats: ${response.status}`);
  return (await response.json()) as T;
}

export async function sandboxPost(baseUrl: string, path: string, body: unknown = {}): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${baseUrl}${path}: ${response.status} ${await response.text()}`);
  return response.json();
}
