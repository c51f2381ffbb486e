// JSON text as the reference's Perl tooling prints it with
// `to_json($data, { canonical => 1, pretty => 1 })`: keys sorted, three-space
// indent, `"key" : value`, `{}` / `[]` when empty, a final newline. The
// reference's regression outputs are compared byte for byte in this form.

/** A value the printer accepts; undefined object members are left out, as absent keys. */
export type PerlJsonValue =
  | null
  | boolean
  | number
  | string
  | readonly PerlJsonValue[]
  | { readonly [key: string]: PerlJsonValue | undefined };

const INDENT = '   ';

function escapeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\b':
        out += '\\b';
        break;
      default:
        out += code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
    }
  }
  return `${out}"`;
}

/** Perl's number stringification: integers in full, others like printf('%.15g'). */
export function perlNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan';
  if (Number.isSafeInteger(n)) return String(n);
  const [mantissa, expText] = n.toExponential(14).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 15) {
    const m = mantissa.replace(/\.?0+$/, '');
    const sign = exp < 0 ? '-' : '+';
    return `${m}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return n.toFixed(Math.max(0, 14 - exp)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function print(value: PerlJsonValue, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return perlNumber(value);
    case 'string':
      return escapeString(value);
    default:
      break;
  }
  const inner = INDENT.repeat(depth + 1);
  const outer = INDENT.repeat(depth);
  if (Array.isArray(value)) {
    const items = value as readonly PerlJsonValue[];
    if (items.length === 0) return '[]';
    return `[\n${items.map((v) => inner + print(v, depth + 1)).join(',\n')}\n${outer}]`;
  }
  const record = value as { readonly [key: string]: PerlJsonValue | undefined };
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return '{}';
  const members = keys.map((k) => `${inner}${escapeString(k)} : ${print(record[k] as PerlJsonValue, depth + 1)}`);
  return `{\n${members.join(',\n')}\n${outer}}`;
}

/** Canonical pretty JSON, newline-terminated, as Perl's JSON module prints it. */
export function toPerlCanonicalJson(value: PerlJsonValue): string {
  return `${print(value, 0)}\n`;
}
