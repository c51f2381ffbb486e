import { describe, expect, it } from 'vitest';
import { compareCodePoints, formatFloat, totalCompare } from '../../src/core/scheduling/index.js';

const sign = (n: number) => Math.sign(n);

describe('code point order', () => {
  it('orders ASCII names as plain comparison does', () => {
    const names = ['vm:110', 'ct:3', 'vm:11', 'node10', 'node2', 'node1', ''];
    expect([...names].sort(compareCodePoints)).toEqual([...names].sort());
  });

  it('puts characters above U+FFFF after those of U+E000..U+FFFF, unlike UTF-16 order', () => {
    const astral = '\u{1F600}';
    const high = '\uFF21';
    expect(astral < high).toBe(true);
    expect(sign(compareCodePoints(astral, high))).toBe(1);
    expect(sign(compareCodePoints(high, astral))).toBe(-1);
    expect(sign(compareCodePoints('\u{10000}', '\u{10001}'))).toBe(-1);
    expect(sign(compareCodePoints('a\uD7FF', 'a\u{10000}'))).toBe(-1);
  });

  it('sorts a prefix first and finds equal strings equal', () => {
    expect(sign(compareCodePoints('node', 'node1'))).toBe(-1);
    expect(compareCodePoints('node1', 'node1')).toBe(0);
  });
});

describe('total order of floats', () => {
  it('sorts -0 before +0 and NaN last', () => {
    const values = [NaN, 1, -0, Infinity, 0, -Infinity, -1];
    expect(values.sort(totalCompare)).toEqual([-Infinity, -1, -0, 0, 1, Infinity, NaN]);
    expect(Object.is([0, -0].sort(totalCompare)[0], -0)).toBe(true);
    expect(totalCompare(NaN, NaN)).toBe(0);
    expect(totalCompare(2, 2)).toBe(0);
  });
});

describe('Rust float text', () => {
  it('writes the special values and integers as Rust does', () => {
    expect(formatFloat(NaN)).toBe('NaN');
    expect(formatFloat(Infinity)).toBe('inf');
    expect(formatFloat(-Infinity)).toBe('-inf');
    expect(formatFloat(-0)).toBe('-0');
    expect(formatFloat(1)).toBe('1');
    expect(formatFloat(0.25)).toBe('0.25');
  });

  it('never uses an exponent', () => {
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.5e-7)).toBe('0.00000015');
    expect(formatFloat(-2.5e22)).toBe('-25000000000000000000000');
    expect(formatFloat(1.2345e-5)).toBe('0.000012345');
  });
});
