import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite is PostgreSQL inside one process: two processes opening the same data directory would corrupt it.
 * The first process to open it writes its pid to `<dir>/tandem.lock`; another live process is refused with
 * a `CustomerViewInUseError`; a lock whose process is gone (killed) is taken over. A second open in the same
 * process is refused too (PGlite would hang on it): share the first connection instead.
 */
export class CustomerViewInUseError extends Error {
  override readonly name = 'CustomerViewInUseError';

  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `the embedded customer view in ${dir} is already open in this process: share that connection`
        : `the embedded customer view in ${dir} is open in another process (pid ${pid}): PGlite serves one ` +
            'process at a time. Stop that process, or set DATABASE_URL to a PostgreSQL server to run several ' +
            'Tandem processes.',
    );
  }
}

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockFile(dir: string): string {
  return join(dir, 'tandem.lock');
}

process.once('exit', () => {
  for (const dir of held) rmSync(lockFile(dir), { force: true });
});

/** Takes the data directory for this process; returns the release function. */
export function lockDataDir(dir: string): () => void {
  if (held.has(dir)) throw new CustomerViewInUseError(dir, process.pid);
  const file = lockFile(dir);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(dir);
      return () => {
        held.delete(dir);
        rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new CustomerViewInUseError(dir, pid);
      rmSync(file, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`could not lock ${file}`);
}
