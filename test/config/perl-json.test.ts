import { describe, expect, it } from 'vitest';

import { perlNumber, toPerlCanonicalJson } from '../../src/config/perl-json.js';

describe('Perl canonical pretty JSON', () => {
  it('sorts keys, indents by three, spaces around colons, prints empty containers inline', () => {
    expect(toPerlCanonicalJson({ b: [1, 'x', {}], a: { z: null, y: true }, c: [], d: {}, e: undefined })).toBe(
      '{\n   "a" : {\n      "y" : true,\n      "z" : null\n   },\n   "b" : [\n      1,\n      "x",\n      {}\n   ],\n   "c" : [],\n   "d" : {}\n}\n',
    );
    expect(toPerlCanonicalJson({})).toBe('{}\n');
  });

  it('escapes like JSON::XS and leaves non-ASCII as is', () => {
    expect(toPerlCanonicalJson(['a"b\\c\n\t\u0001/ä'])).toBe('[\n   "a\\"b\\\\c\\n\\t\\u0001/ä"\n]\n');
  });

  it('prints numbers as Perl stringifies them', () => {
    expect(perlNumber(-1)).toBe('-1');
    expect(perlNumber(123456789012)).toBe('123456789012');
    expect(perlNumber(0.1 + 0.2)).toBe('0.3');
    expect(perlNumber(2.5)).toBe('2.5');
    expect(perlNumber(1e21)).toBe('1e+21');
    expect(perlNumber(0.00001)).toBe('1e-05');
    expect(perlNumber(0.0001)).toBe('0.0001');
  });
});
