/** One thing wrong with a mapping file, located so an editor or a terminal can jump to it. */
export type Severity = 'error' | 'warning';

export interface MappingProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Where in the mapping, e.g. `objects.person.fields[3].conflict` (empty for the whole file). */
  path: string;
  message: string;
  hint?: string;
  severity: Severity;
}

/** `mappings/x.yaml:42:19 objects.person.fields[3].conflict: "newst" is not … — did you mean "newest"?` */
export function formatProblem(problem: MappingProblem, options: { severity?: boolean } = {}): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const severity = options.severity === true ? ` ${problem.severity}` : '';
  const path = problem.path === '' ? '' : ` ${problem.path}:`;
  const hint = problem.hint === undefined ? '' : ` — ${problem.hint}`;
  return `${where}${severity}${path} ${problem.message}${hint}`;
}

export function hasErrors(problems: readonly MappingProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Problems in file order, so a terminal listing reads top to bottom. */
export function sortProblems(problems: readonly MappingProblem[]): MappingProblem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** Thrown by `parseMapping` with every problem found, not just the first. */
export class MappingError extends Error {
  override name = 'MappingError';
  readonly problems: readonly MappingProblem[];

  constructor(problems: readonly MappingProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0];
    super(
      first === undefined
        ? 'invalid mapping'
        : `${sorted.length} problem${sorted.length === 1 ? '' : 's'} in ${first.file}; first: ${formatProblem(first)}`,
    );
    this.problems = sorted;
  }

  /** One problem a line, for terminals. */
  format(): string {
    return this.problems.map((p) => formatProblem(p)).join('\n');
  }
}
