/** "Did you mean" for misspelt keys and values: the nearest candidate by edit distance, if near enough. */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate `value` was most likely meant to be: a case-insensitive match first, else the nearest one
 * within a third of its length (at least 2 edits), else none.
 */
export function closest(value: string, candidates: Iterable<string>): string | undefined {
  const list = [...new Set(candidates)].filter((c) => c !== value);
  const lower = value.toLowerCase();
  const sameCase = list.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const limit = Math.max(2, Math.floor(value.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of list) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

export function didYouMean(value: string, candidates: Iterable<string>): string | undefined {
  const match = closest(value, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

/** `a, b, c, …` — at most `max` items, for "expected one of" lists. */
export function listOf(values: readonly string[], max = 8): string {
  const shown = values.slice(0, max).join(', ');
  return values.length > max ? `${shown}, …` : shown;
}
