import { createPrng } from '../common/prng.js';

/** Seeded random choices for the world generator; every draw comes from one PRNG, in call order. */
export class Dice {
  private readonly next: () => number;

  constructor(seed: string) {
    this.next = createPrng(seed);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const weight of weights) total += weight;
    let roll = this.next() * total;
    for (let i = 0; i < items.length; i += 1) {
      roll -= weights[i] ?? 0;
      if (roll < 0) return items[i] as T;
    }
    return this.pick(items);
  }

  /** A time (epoch ms) in [from, to], on a whole second. */
  between(from: number, to: number): number {
    if (to <= from) return from;
    return Math.floor((from + this.next() * (to - from)) / 1000) * 1000;
  }

  /** `#` replaced by random digits: phone numbers and the like. */
  digits(pattern: string): string {
    let out = '';
    for (const char of pattern) out += char === '#' ? String(this.int(0, 9)) : char;
    return out;
  }

  /** A new array in random order (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      const swap = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = swap;
    }
    return copy;
  }
}
