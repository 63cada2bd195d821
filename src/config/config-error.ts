export type ProblemOrigin =
  { kind: 'env' } | { kind: 'file'; file: string; line?: number } | { kind: 'default' } | { kind: 'unset' };

export interface ConfigProblem {
  /** The variable (or config-file key) at fault. */
  variable: string;
  /** What was expected, and what was found unless the value is a secret. */
  message: string;
  origin: ProblemOrigin;
}

function describeOrigin(origin: ProblemOrigin): string {
  switch (origin.kind) {
    case 'env':
      return 'environment';
    case 'default':
      return 'default';
    case 'unset':
      return 'not set';
    case 'file':
      return origin.line === undefined ? origin.file : `${origin.file} line ${origin.line}`;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.variable} (${describeOrigin(problem.origin)}): ${problem.message}`;
}

/** Every configuration problem at once, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], heading = 'Tandem configuration is invalid') {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${heading} (${count}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}
