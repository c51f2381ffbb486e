// Strict JSON (what the reference's decode_json accepts) parsed with the line
// of every member and element remembered, so that a value failing
// validation can be reported by file, line and field.

import { ConfigError, type ConfigIssue } from './issues.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
export type JsonPath = ReadonlyArray<string | number>;

export interface JsonDocument {
  file: string;
  value: JsonValue;
  /** Line of the key (object member) or first character (array element) at `path`. */
  lineOf(path: JsonPath): number | undefined;
}

/** `a.b[2].c`, the field name used in issues. */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

function describeChar(ch: string | undefined): string {
  if (ch === undefined) return 'end of file';
  if (ch === '\n') return 'end of line';
  return `'${ch}'`;
}

class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses `text`; a syntax error throws a ConfigError naming file and line.
 * JSON.parse reads the same grammar many times faster: it does the work,
 * and the line of each member is only looked for (by the tracking parser
 * below) when an issue is reported, or JSON.parse refused the text.
 */
export function parseJsonDocument(text: string, file: string): JsonDocument {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return parseTrackingLines(text, file);
  }
  let tracked: JsonDocument | undefined;
  return {
    file,
    value,
    lineOf: (path) => (tracked ??= parseTrackingLines(text, file)).lineOf(path),
  };
}

function parseTrackingLines(text: string, file: string): JsonDocument {
  const lines = new Map<string, number>();
  let pos = 0;
  let line = 1;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(line, message);
  };
  const skipWhitespace = () => {
    while (pos < text.length) {
      const ch = text[pos];
      if (ch === '\n') line++;
      else if (ch !== ' ' && ch !== '\t' && ch !== '\r') return;
      pos++;
    }
  };
  const expectChar = (ch: string, what: string) => {
    skipWhitespace();
    if (text[pos] !== ch) fail(`unexpected ${describeChar(text[pos])} (expected ${what})`);
    pos++;
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      const ch = text[pos];
      if (ch === undefined) fail('unterminated string');
      if (ch === '"') {
        pos++;
        return out;
      }
      if (ch < ' ') fail(`unescaped control character in string (code ${ch.charCodeAt(0)})`);
      if (ch !== '\\') {
        out += ch;
        pos++;
        continue;
      }
      const esc = text[pos + 1];
      pos += 2;
      switch (esc) {
        case '"':
        case '\\':
        case '/':
          out += esc;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(`invalid \\u escape '\\u${hex}'`);
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          fail(`invalid escape '\\${esc ?? ''}' in string`);
      }
    }
  };

  const parseNumber = (): number => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!m) fail(`unexpected ${describeChar(text[pos])} (expected a value)`);
    const literal = (m as RegExpExecArray)[0];
    pos += literal.length;
    return Number(literal);
  };

  const parseValue = (path: Array<string | number>): JsonValue => {
    skipWhitespace();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const obj: JsonObject = {};
      skipWhitespace();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWhitespace();
        if (text[pos] !== '"') fail(`unexpected ${describeChar(text[pos])} (expected a quoted member name)`);
        const keyLine = line;
        const key = parseString();
        expectChar(':', "':' after the member name");
        const childPath = [...path, key];
        lines.set(pathKey(childPath), keyLine);
        const value = parseValue(childPath);
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        skipWhitespace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail(`unexpected ${describeChar(text[pos])} (expected ',' or '}')`);
      }
    }
    if (ch === '[') {
      pos++;
      const arr: JsonValue[] = [];
      skipWhitespace();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        skipWhitespace();
        const childPath = [...path, arr.length];
        lines.set(pathKey(childPath), line);
        arr.push(parseValue(childPath));
        skipWhitespace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail(`unexpected ${describeChar(text[pos])} (expected ',' or ']')`);
      }
    }
    if (ch === '"') return parseString();
    for (const [literal, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(literal, pos)) {
        pos += literal.length;
        return value;
      }
    }
    return parseNumber();
  };

  try {
    lines.set(pathKey([]), 1);
    const value = parseValue([]);
    skipWhitespace();
    if (pos < text.length) fail(`unexpected ${describeChar(text[pos])} after the JSON value`);
    return { file, value, lineOf: (path) => lines.get(pathKey(path)) };
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new ConfigError([{ file, line: err.line, message: `invalid JSON: ${err.message}` }]);
    }
    throw err;
  }
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Collects validation issues against a parsed document; each names the
 * field's JSON path and the line it is on.
 */
export class JsonIssues {
  readonly issues: ConfigIssue[] = [];

  constructor(readonly doc: JsonDocument) {}

  /** A missing member is reported at the line of its nearest present ancestor. */
  add(path: JsonPath, message: string): void {
    const field = formatJsonPath(path);
    let line: number | undefined;
    for (let depth = path.length; line === undefined && depth >= 0; depth--) {
      line = this.doc.lineOf(path.slice(0, depth));
    }
    this.issues.push({
      file: this.doc.file,
      line,
      ...(field !== '' ? { field } : {}),
      message,
    });
  }

  /** Throws a ConfigError if anything was reported. */
  settle(): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
  }

  object(path: JsonPath, value: JsonValue | undefined): JsonObject | undefined {
    if (isJsonObject(value)) return value;
    this.add(path, `expected an object, got ${describeJson(value)}`);
    return undefined;
  }

  string(path: JsonPath, value: JsonValue | undefined): string | undefined {
    if (typeof value === 'string') return value;
    this.add(path, `expected a string, got ${describeJson(value)}`);
    return undefined;
  }

  number(path: JsonPath, value: JsonValue | undefined): number | undefined {
    if (typeof value === 'number') return value;
    this.add(path, `expected a number, got ${describeJson(value)}`);
    return undefined;
  }

  oneOf<T extends string>(path: JsonPath, value: JsonValue | undefined, allowed: readonly T[]): T | undefined {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.add(path, `value ${describeJson(value)} is not one of ${allowed.join(', ')}`);
    return undefined;
  }

  /** Reports every member of `obj` not in `known`. */
  onlyKeys(path: JsonPath, obj: JsonObject, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.add([...path, key], `unknown key (expected one of ${known.join(', ')})`);
    }
  }
}

export function describeJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}
