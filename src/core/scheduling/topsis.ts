// TOPSIS (technique for order of preference by similarity to the ideal
// solution): alternatives are rows, criteria are columns; each column is
// scaled to unit length, and an alternative scores by how far it is from the
// worst and how near to the best value seen in every column. Every loop below
// runs in the same order, with the same operations, as the Rust kernel's.

import { formatFloat } from './float-text.js';
import { totalCompare } from './ordering.js';

export interface Criterion {
  readonly name: string;
  /** Non-negative relative weight. */
  readonly weight: number;
  /** Whether larger values are better. */
  readonly maximize: boolean;
}

/** A criterion; a negative weight means smaller values are better. */
export function criterion(name: string, weight: number): Criterion {
  return weight >= 0 ? { name, weight, maximize: true } : { name, weight: -weight, maximize: false };
}

/** Criteria whose weights were scaled to sum to one. */
export interface Criteria {
  readonly names: readonly string[];
  readonly weights: Float64Array;
  readonly maximize: readonly boolean[];
}

export function normaliseCriteria(criteria: readonly Criterion[]): Criteria {
  let divisor = 0;
  for (const c of criteria) divisor += c.weight;
  if (divisor === 0) throw new Error('no criterion has a non-zero weight');
  const weights = new Float64Array(criteria.length);
  criteria.forEach((c, n) => {
    const weight = c.weight / divisor;
    if (weight > 1 || weight < 0 || !Number.isFinite(weight)) {
      throw new Error(`criterion '${c.name}' got invalid weight ${formatFloat(weight)}`);
    }
    weights[n] = weight;
  });
  return { names: criteria.map((c) => c.name), weights, maximize: criteria.map((c) => c.maximize) };
}

/** Row-major values: `values[row * width + criterion]`. */
export interface Matrix {
  readonly rows: number;
  readonly width: number;
  readonly values: Float64Array;
}

export function matrixFromRows(rows: readonly (readonly number[])[], width: number): Matrix {
  const values = new Float64Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new Error(`matrix row ${r} has ${row.length} values, expected ${width}`);
    values.set(row, r * width);
  });
  return { rows: rows.length, width, values };
}

/**
 * Scales every column to unit Euclidean length, in place. A column that is
 * zero throughout stays zero. Fails on a value that is not finite afterwards.
 */
export function normaliseMatrix(matrix: Matrix): Matrix {
  const { rows, width, values } = matrix;
  for (let n = 0; n < width; n++) {
    let squares = 0;
    for (let r = 0; r < rows; r++) {
      const v = values[r * width + n];
      squares += v * v;
    }
    const divisor = Math.sqrt(squares);
    if (divisor !== 0) {
      for (let r = 0; r < rows; r++) {
        const v = values[r * width + n] / divisor;
        if (!Number.isFinite(v)) throw new Error(`criterion ${n} got invalid value ${formatFloat(v)}`);
        values[r * width + n] = v;
      }
    }
  }
  return matrix;
}

function checkWidth(matrix: Matrix, criteria: Criteria): void {
  if (matrix.width !== criteria.weights.length) {
    throw new Error(`matrix has ${matrix.width} criteria, but ${criteria.weights.length} were weighted`);
  }
}

/** Weighted Euclidean distance of row `r` from `ideal`. */
function distance(matrix: Matrix, r: number, ideal: Float64Array, weights: Float64Array): number {
  const { width, values } = matrix;
  let squares = 0;
  for (let n = 0; n < width; n++) {
    const v = (values[r * width + n] - ideal[n]) * weights[n];
    squares += v * v;
  }
  return Math.sqrt(squares);
}

/**
 * Scores of the alternatives of a normalised matrix, from 0 (at the ideal
 * worst) to 1 (at the ideal best); 0 for all when all alternatives are equal.
 */
export function scoreAlternatives(matrix: Matrix, criteria: Criteria): Float64Array {
  checkWidth(matrix, criteria);
  const { rows, width, values } = matrix;
  const best = new Float64Array(width);
  const worst = new Float64Array(width);
  for (let n = 0; n < width; n++) {
    let min = rows === 0 ? -Infinity : values[n];
    let max = rows === 0 ? Infinity : values[n];
    for (let r = 1; r < rows; r++) {
      const v = values[r * width + n];
      // Rust's min_by keeps the first of equal minima, max_by the last of equal maxima.
      if (totalCompare(v, min) < 0) min = v;
      if (totalCompare(v, max) >= 0) max = v;
    }
    best[n] = criteria.maximize[n] ? max : min;
    worst[n] = criteria.maximize[n] ? min : max;
  }
  const scores = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const toBest = distance(matrix, r, best, criteria.weights);
    const toWorst = distance(matrix, r, worst, criteria.weights);
    const divisor = toWorst + toBest;
    scores[r] = divisor === 0 ? 0 : toWorst / divisor;
  }
  const invalid = scores.find((score) => !Number.isFinite(score));
  if (invalid !== undefined) throw new Error(`invalid score ${formatFloat(invalid)}`);
  return scores;
}

/** Indices of `scores` from best to worst; equal scores keep their order. */
export function rankScores(scores: Float64Array): number[] {
  const indices = Array.from(scores, (_, i) => i);
  return indices.sort((a, b) => totalCompare(scores[b], scores[a]));
}

export function rankAlternatives(matrix: Matrix, criteria: Criteria): number[] {
  return rankScores(scoreAlternatives(matrix, criteria));
}
