// Parameter schemas of the administrative operations, in the manner of the
// reference's JSON schema: each operation declares its parameters once, and
// both front ends check what they receive against that declaration —
// strings from a command line or a form, numbers and booleans from JSON.
// A value that passes is returned normalised (integers as numbers, lists
// joined with commas, comments trimmed): exactly what will be written, so
// that the file's parser reads the same value back. A value that fails is
// reported under its parameter's name.

import { AdminError } from './errors.js';
import { checkFormat, type FormatName } from './formats.js';

interface ParamBase {
  description: string;
  /** May be left out; required otherwise. */
  optional?: true;
  /** What leaving it out means, for the help text. */
  default?: string | number;
  /** The value's shape in the help text, e.g. `<type>:<name>`. */
  typetext?: string;
}

export interface IntegerParam extends ParamBase {
  type: 'integer';
  minimum?: number;
  /** Default Number.MAX_SAFE_INTEGER: a larger value would not keep its digits. */
  maximum?: number;
}

/**
 * A decimal number such as a clock's scale: plain digits with an optional
 * fraction, and no more digits than a double keeps (what is written must
 * read back as the same number).
 */
export interface NumberParam extends ParamBase {
  type: 'number';
  minimum: number;
  maximum: number;
}

export interface BooleanParam extends ParamBase {
  type: 'boolean';
}

export interface StringParam extends ParamBase {
  type: 'string';
  enum?: readonly string[];
  format?: FormatName;
  /** Characters (code points), as the reference counts them. */
  maxLength?: number;
}

export type ParamSchema = IntegerParam | NumberParam | BooleanParam | StringParam;
export type ParamsSchema = Readonly<Record<string, ParamSchema>>;

type ValueOf<P> = P extends { type: 'integer' | 'number' }
  ? number
  : P extends { type: 'boolean' }
    ? boolean
    : P extends { enum: readonly (infer E)[] }
      ? E
      : string;

type RequiredKeys<S> = { [K in keyof S]: S[K] extends { optional: true } ? never : K }[keyof S];
type OptionalKeys<S> = Exclude<keyof S, RequiredKeys<S>>;

/** The checked parameters of a schema: required ones present, values of their declared types. */
export type Infer<S extends ParamsSchema> = { -readonly [K in RequiredKeys<S>]: ValueOf<S[K]> } & {
  -readonly [K in OptionalKeys<S>]?: ValueOf<S[K]>;
};

/** What a front end may hand in for one parameter. */
export type RawValue = string | number | boolean;

const INTEGER_RE = /^[+-]?\d+$/;
/** Text that cannot be written as UTF-8 (it would come back as U+FFFD). */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkInteger(schema: IntegerParam, raw: RawValue): { value: number } | { problem: string } {
  let digits: string;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) return { problem: `type check ('integer') failed - got '${raw}'` };
    digits = BigInt(raw).toString();
  } else if (typeof raw === 'string' && INTEGER_RE.test(raw.trim())) {
    digits = raw.trim();
  } else {
    return { problem: `type check ('integer') failed - got '${String(raw)}'` };
  }
  // Compared as big integers: a value past the range must be refused, not rounded first.
  const value = BigInt(digits);
  const maximum = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  if (schema.minimum !== undefined && value < BigInt(schema.minimum)) {
    return { problem: `value must have a minimum value of ${schema.minimum}` };
  }
  if (value > BigInt(maximum)) return { problem: `value must have a maximum value of ${maximum}` };
  return { value: Number(value) };
}

const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** `007.50` as the shortest text of the same number, `7.5`. */
function canonicalDecimal(text: string): string {
  const [whole, fraction = ''] = text.split('.');
  const digits = whole.replace(/^0+(?=\d)/, '');
  const decimals = fraction.replace(/0+$/, '');
  return decimals === '' ? digits : `${digits}.${decimals}`;
}

function checkNumber(schema: NumberParam, raw: RawValue): { value: number } | { problem: string } {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (typeof raw === 'boolean' || (typeof raw === 'string' && !DECIMAL_RE.test(text)) || (typeof raw === 'number' && !Number.isFinite(raw))) {
    return { problem: `type check ('number') failed - got '${String(raw)}' (expected decimal digits, e.g. 20 or 2.5)` };
  }
  const value = Number(text);
  if (value < schema.minimum) return { problem: `value must have a minimum value of ${schema.minimum}` };
  if (value > schema.maximum) return { problem: `value must have a maximum value of ${schema.maximum}` };
  // A plain decimal, and the same number: the parser reads back what is written.
  if (!DECIMAL_RE.test(String(value)) || String(value) !== canonicalDecimal(text)) {
    return { problem: `value '${text}' has more digits than a number keeps (it would be written as ${String(value)})` };
  }
  return { value };
}

const TRUE_RE = /^(1|on|yes|true)$/i;
const FALSE_RE = /^(0|off|no|false)$/i;

function checkBoolean(raw: RawValue): { value: boolean } | { problem: string } {
  if (typeof raw === 'boolean') return { value: raw };
  const text = String(raw).trim();
  if (TRUE_RE.test(text)) return { value: true };
  if (FALSE_RE.test(text)) return { value: false };
  return { problem: `type check ('boolean') failed - got '${String(raw)}' (expected 1/0, yes/no, on/off or true/false)` };
}

function checkString(schema: StringParam, raw: RawValue): { value: string } | { problem: string } {
  if (typeof raw !== 'string') {
    if (schema.enum === undefined && schema.format === undefined && typeof raw === 'number') raw = String(raw);
    else return { problem: `type check ('string') failed - got ${typeof raw === 'number' ? raw : String(raw)}` };
  }
  if (LONE_SURROGATE_RE.test(raw)) return { problem: 'value is not valid Unicode text (it has a lone surrogate)' };
  if (schema.enum !== undefined) {
    if (schema.enum.includes(raw)) return { value: raw };
    return { problem: `value '${raw}' does not have a value in the enumeration '${schema.enum.join(', ')}'` };
  }
  const checked = schema.format === undefined ? { value: raw } : checkFormat(schema.format, raw);
  if ('problem' in checked) return checked;
  if (schema.maxLength !== undefined) {
    const length = [...checked.value].length;
    if (length > schema.maxLength) return { problem: `value may only be ${schema.maxLength} characters long (got ${length})` };
  }
  return checked;
}

/** Checks one value against its schema: the normalised value, or what is wrong with it. */
export function checkParam(schema: ParamSchema, raw: RawValue): { value: number | boolean | string } | { problem: string } {
  switch (schema.type) {
    case 'integer':
      return checkInteger(schema, raw);
    case 'number':
      return checkNumber(schema, raw);
    case 'boolean':
      return checkBoolean(raw);
    case 'string':
      return checkString(schema, raw);
    default: {
      const unreachable: never = schema;
      throw new Error(`unknown parameter type in ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Checks every parameter; throws an `invalid` AdminError naming each one at
 * fault (unknown, missing or malformed). `undefined` counts as left out.
 */
export function validateParams<S extends ParamsSchema>(schema: S, raw: Readonly<Record<string, RawValue | undefined>>): Infer<S> {
  // Without a prototype: a parameter named `__proto__` is reported like any other unknown one.
  const errors: Record<string, string> = Object.create(null) as Record<string, string>;
  const values: Record<string, number | boolean | string> = {};
  for (const key of Object.keys(raw)) {
    if (raw[key] !== undefined && !Object.hasOwn(schema, key)) {
      errors[key] = 'property is not defined in schema and the schema does not allow additional properties';
    }
  }
  for (const [key, param] of Object.entries(schema)) {
    const value = Object.hasOwn(raw, key) ? raw[key] : undefined;
    if (value === undefined) {
      if (!param.optional) errors[key] = 'property is missing and it is not optional';
      continue;
    }
    const checked = checkParam(param, value);
    if ('problem' in checked) errors[key] = checked.problem;
    else values[key] = checked.value;
  }
  if (Object.keys(errors).length > 0) throw new AdminError('invalid', 'Parameter verification failed.', errors);
  return values as Infer<S>;
}
