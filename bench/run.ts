/**
 * `npm run bench`: runs every benchmark script in its own process (so each gets a clean heap and its own
 * peak RSS), collects the JSON line each prints last, writes `bench/results/latest.json` and prints a
 * markdown table. `npm run bench -- --only engine,sandbox` runs a subset; `--quick` uses small sizes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve as resolvePath } from 'node:path';

interface Bench {
  name: string;
  script: string;
  args: string[];
  quickArgs: string[];
  /**
   * Run the script compiled by `tsc` (`bench/tsconfig.engine.json` into `dist-bench/`) rather than through
   * tsx, whose transform costs a CPU-bound benchmark about 20 %: the product runs compiled.
   */
  compiled?: boolean;
}

const BENCHES: Bench[] = [
  { name: 'engine', script: 'bench/engine.ts', args: [], quickArgs: ['5000'], compiled: true },
  { name: 'sandbox', script: 'bench/sandbox.ts', args: ['20000'], quickArgs: ['3000'] },
  { name: 'connectors-hubspot', script: 'bench/connectors-hubspot.ts', args: ['20000'], quickArgs: ['3000'] },
  {
    name: 'connectors-salesforce',
    script: 'bench/connectors-salesforce.ts',
    args: ['20000'],
    quickArgs: ['3000'],
  },
  { name: 'customer-view', script: 'bench/customer-view.ts', args: [], quickArgs: ['10000'] },
  // Every dashboard API call and page at 100,000 persons, each within 1 s (verdicts in the table).
  { name: 'dashboard', script: 'bench/dashboard.ts', args: ['100000'], quickArgs: ['5000'] },
  {
    name: 'fixed-point',
    script: 'bench/fixed-point.ts',
    args: ['--persons', '20000'],
    quickArgs: ['--persons', '1000'],
  },
  {
    name: 'e2e',
    script: 'bench/e2e.ts',
    args: ['--persons', '100000', '--scale-persons', '20000', '--limited-persons', '20000'],
    quickArgs: ['--quick'],
  },
];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyIndex = argv.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',')) : undefined;

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  result?: Record<string, unknown>;
  error?: string;
}

const COMPILED_DIR = 'dist-bench';

/** Compiles the compiled benches with `src/` into `dist-bench/`, next to what they read at run time. */
function compileBenches(): void {
  rmSync(COMPILED_DIR, { recursive: true, force: true });
  const built = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'bench/tsconfig.engine.json'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (built.status !== 0) throw new Error(`tsc -p bench/tsconfig.engine.json failed with ${built.status}`);
  copyFileSync('package.json', `${COMPILED_DIR}/package.json`); // "type": "module"
  symlinkSync(resolvePath('mappings'), `${COMPILED_DIR}/mappings`);
  symlinkSync(resolvePath('node_modules'), `${COMPILED_DIR}/node_modules`);
}

function run(bench: Bench): Promise<Outcome> {
  const started = performance.now();
  const script =
    bench.compiled === true ? `${COMPILED_DIR}/${bench.script.replace(/\.ts$/, '.js')}` : bench.script;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        ...(bench.compiled === true ? [] : ['--import', 'tsx']),
        script,
        ...(quick ? bench.quickArgs : bench.args),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      const line = stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        resolve({
          name: bench.name,
          ok: false,
          seconds,
          error: `exit ${code}: ${stderr.trim().slice(-400)}`,
        });
        return;
      }
      resolve({ name: bench.name, ok: true, seconds, result: JSON.parse(line) as Record<string, unknown> });
    });
  });
}

/** Flattens a result into `a.b.c = value` pairs for the table. */
function flatten(value: unknown, prefix = ''): Array<[string, string]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [[prefix, Array.isArray(value) ? JSON.stringify(value) : String(value)]];
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) =>
    key === 'bench' ? [] : flatten(inner, prefix === '' ? key : `${prefix}.${key}`),
  );
}

// Throughput figures from a busy machine say little: the load is recorded with them, and said when high.
const loadAverage = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));
const loadAtStart = loadAverage();
if ((loadAtStart[0] ?? 0) > cpus().length / 2)
  process.stderr.write(
    `bench: the machine is busy (load average ${loadAtStart.join(', ')} on ${cpus().length} CPUs): records/s will be low; calls, RSS and checks are not affected\n`,
  );

const outcomes: Outcome[] = [];
const selected = BENCHES.filter((bench) => only === undefined || only.has(bench.name));
if (selected.some((bench) => bench.compiled === true)) compileBenches();
for (const bench of selected) {
  process.stderr.write(`bench: ${bench.name}${quick ? ' (quick)' : ''}…\n`);
  outcomes.push(await run(bench));
}

const report = {
  at: new Date().toISOString(),
  quick,
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadAverage(),
  },
  node: process.version,
  benches: outcomes,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);

const lines = ['| bench | metric | value |', '| --- | --- | --- |'];
for (const outcome of outcomes) {
  if (!outcome.ok) {
    lines.push(
      `| ${outcome.name} | FAILED | ${(outcome.error ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')} |`,
    );
    continue;
  }
  for (const [metric, value] of flatten(outcome.result))
    lines.push(`| ${outcome.name} | ${metric} | ${value} |`);
  lines.push(`| ${outcome.name} | wall seconds | ${outcome.seconds} |`);
}
process.stdout.write(`${lines.join('\n')}\n\nWrote bench/results/latest.json\n`);
// A bench with a limit reports `withinLimit: "pass …" | "FAIL …"`; a FAIL fails the run like a crash.
const overLimit = outcomes.filter((o) => String(o.result?.['withinLimit'] ?? '').startsWith('FAIL'));
for (const o of overLimit)
  process.stderr.write(`bench: ${o.name} over its limit: ${String(o.result?.['withinLimit'])}\n`);
process.exitCode = outcomes.every((o) => o.ok) && overLimit.length === 0 ? 0 : 1;
