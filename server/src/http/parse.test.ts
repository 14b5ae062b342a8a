// N12 (docs/security-tests.md): readParams reads a string with nothing to decode without
// URLSearchParams (parse.ts, plainPairs). Both ways must give the same parameters for every input,
// and both refuse a repeated name.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { readParams } from './parse.js';

/** What URLSearchParams alone makes of the string: the reference. */
function reference(search: string): Record<string, string> | 'PARAMETER_DUPLICATED' {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(search)) {
    if (params.has(key)) return 'PARAMETER_DUPLICATED';
    params.set(key, value);
  }
  return Object.fromEntries(params);
}

function read(search: string): Record<string, string> | 'PARAMETER_DUPLICATED' {
  try {
    return readParams(search);
  } catch (error) {
    if (error instanceof AppError) return error.code as 'PARAMETER_DUPLICATED';
    throw error;
  }
}

const token = `eyJhbGciOiJFUzI1NiJ9.${'eyJzdWIiOiJ4In0'.repeat(40)}.${'A-_z'.repeat(21)}AB`;

describe('readParams', () => {
  it.each([
    '',
    '&',
    '&&&',
    '=',
    'a',
    'a=',
    '=a',
    'a=b=c',
    'a=1&&b=2&',
    '&a=1&b',
    `token=${token}`,
    `token=${token}&token_type_hint=access_token`,
    'é=ü&名前=値',
    'a=1&a=2',
    'a=1&b=2&a',
    '__proto__=yes',
    'constructor=x&toString=y',
    // What only the decoding pass reads differently: these take URLSearchParams' way.
    'a=%41%42',
    'a=%zz',
    'a+b=c+d',
    'a=1&a+=2',
    '?a=1',
    '??a=1',
    'a=\uD800',
    '\uDC00=x',
    'a=\uD83D\uDE00',
  ])('reads %j as URLSearchParams does', (search) => {
    expect(read(search)).toEqual(reference(search));
  });

  it('N12: refuses a name given twice, however it is spelt', () => {
    for (const search of ['a=1&a=2', 'a&a', 'a=1&a', 'a=1&%61=2', 'a b=1&a+b=2']) expect(read(search)).toBe('PARAMETER_DUPLICATED');
  });

  it('keeps __proto__ an own property', () => {
    const params = readParams('__proto__=yes');
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.hasOwn(params, '__proto__')).toBe(true);
  });
});
