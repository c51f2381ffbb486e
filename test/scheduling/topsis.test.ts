import { describe, expect, it } from 'vitest';
import {
  criterion,
  matrixFromRows,
  normaliseCriteria,
  normaliseMatrix,
  rankAlternatives,
  scoreAlternatives,
  type Criteria,
} from '../../src/core/scheduling/index.js';

function criteria(list: Array<[string, number]>): Criteria {
  return normaliseCriteria(list.map(([name, weight]) => criterion(name, weight)));
}

function rank(rows: number[][], c: Criteria): number[] {
  return rankAlternatives(normaliseMatrix(matrixFromRows(rows, c.weights.length)), c);
}

describe('TOPSIS', () => {
  it('scores two alternatives of one criterion as 0 and 1', () => {
    const scores = scoreAlternatives(normaliseMatrix(matrixFromRows([[1], [2]], 1)), criteria([['x', 1]]));
    expect([...scores]).toEqual([0, 1]);
  });

  it('ranks by one criterion in its direction', () => {
    const up = criteria([['only', 1]]);
    const down = criteria([['only', -1]]);
    expect(rank([[0]], up)).toEqual([0]);
    expect(rank([[0]], down)).toEqual([0]);
    expect(rank([[0], [2]], up)).toEqual([1, 0]);
    expect(rank([[0], [2]], down)).toEqual([0, 1]);
    expect(rank([[1], [2]], up)).toEqual([1, 0]);
    expect(rank([[1], [2], [5], [3], [4]], up)).toEqual([2, 4, 3, 1, 0]);
    expect(rank([[1], [2], [5], [3], [4]], down)).toEqual([0, 1, 3, 4, 2]);
    expect(rank([[-2], [-5], [-4], [1], [-3]], up)).toEqual([3, 0, 4, 2, 1]);
    expect(rank([[-2], [-5], [-4], [1], [-3]], down)).toEqual([1, 2, 4, 0, 3]);
  });

  it('ranks by two criteria in every combination of directions', () => {
    const maxMin = criteria([['max', 1], ['min', -1]]);
    const minMax = criteria([['min', -1], ['max', 1]]);
    const minMin = criteria([['min1', -1], ['min2', -1]]);
    const maxMax = criteria([['max1', 1], ['max2', 1]]);
    const corners = [[0, 1], [1, 0], [1, -1], [1, 1], [0, 0]];
    expect(rank(corners, maxMin)).toEqual([2, 1, 4, 3, 0]);
    expect(rank(corners, minMax)).toEqual([0, 3, 4, 1, 2]);
    expect(rank(corners, minMin)).toEqual([2, 4, 1, 0, 3]);
    expect(rank(corners, maxMax)).toEqual([3, 0, 1, 4, 2]);
    const scattered = [[7, 4], [1, 0.5], [-1, -1], [-8.5, 11.5], [4, 7]];
    expect(rank(scattered, maxMin)).toEqual([0, 1, 4, 2, 3]);
    expect(rank(scattered, minMax)).toEqual([3, 2, 4, 1, 0]);
    expect(rank(scattered, minMin)).toEqual([2, 3, 1, 0, 4]);
    expect(rank(scattered, maxMax)).toEqual([4, 0, 1, 3, 2]);
  });

  it('follows the heaviest of three criteria, whatever the column scale', () => {
    const first = criteria([['more', 10], ['less', 0.2], ['least', 0.1]]);
    const second = criteria([['less', 0.2], ['more', 10], ['least', 0.1]]);
    const third = criteria([['less', 0.2], ['least', 0.1], ['more', 10]]);
    const minimising = criteria([['most', -10], ['more', -5], ['less', 0.1]]);
    for (const big of [1, 1000]) {
      const rows = [[1, 0, 0], [0, 1, 0], [0, 0, big]];
      expect(rank(rows, first)).toEqual([0, 1, 2]);
      expect(rank(rows, second)).toEqual([1, 0, 2]);
      expect(rank(rows, third)).toEqual([2, 0, 1]);
      expect(rank(rows, minimising)).toEqual([2, 1, 0]);
    }
    const negative = [[-1, 0, 0], [0, -1, 0], [0, 0, 1]];
    expect(rank(negative, first)).toEqual([2, 1, 0]);
    expect(rank(negative, second)).toEqual([2, 0, 1]);
    expect(rank(negative, third)).toEqual([2, 1, 0]);
    expect(rank(negative, minimising)).toEqual([0, 1, 2]);
  });

  it('keeps a zero column at zero', () => {
    const rows = [[0, 0, 0], [0, 1, 0], [0, 0, 1]];
    const matrix = normaliseMatrix(matrixFromRows(rows, 3));
    expect([matrix.values[0], matrix.values[3], matrix.values[6]]).toEqual([0, 0, 0]);
    expect(rank(rows, criteria([['more', 10], ['less', 0.2], ['least', 0.1]]))).toEqual([1, 2, 0]);
  });

  it('scales weights to sum to one', () => {
    const c = criteria([['a', -1], ['b', 3]]);
    expect([...c.weights]).toEqual([0.25, 0.75]);
    expect(c.maximize).toEqual([false, true]);
  });

  it('gives equal alternatives score 0 and keeps their order', () => {
    const c = criteria([['a', 1], ['b', -1]]);
    const matrix = normaliseMatrix(matrixFromRows([[2, 3], [2, 3], [2, 3]], 2));
    expect([...scoreAlternatives(matrix, c)]).toEqual([0, 0, 0]);
    expect(rankAlternatives(matrix, c)).toEqual([0, 1, 2]);
  });

  it('fails with the reference texts', () => {
    expect(() => criteria([['z', 0], ['e', 0], ['ro', 0]])).toThrow(new Error('no criterion has a non-zero weight'));
    expect(() => criteria([['a', 1], ['b', NaN]])).toThrow(new Error("criterion 'a' got invalid weight NaN"));
    expect(() => criteria([['a', Infinity]])).toThrow(new Error("criterion 'a' got invalid weight NaN"));
    expect(() => normaliseMatrix(matrixFromRows([[-1, 0, 0], [0, -1, 0], [0, NaN, 1]], 3))).toThrow(
      new Error('criterion 1 got invalid value NaN'),
    );
    expect(() => normaliseMatrix(matrixFromRows([[1], [Infinity]], 1))).toThrow(
      new Error('criterion 0 got invalid value NaN'),
    );
  });
});
