// Text conventions of the reference's config files: list splitting and the
// percent-encoding used for free-text values such as rule comments.

/** Splits a list value on commas, semicolons and whitespace (the reference's split_list). */
export function splitList(value: string): string[] {
  if (value.includes('\0')) return dropTrailingEmpty(value.split('\0'));
  return value
    .replace(/[,;]/g, ' ')
    .split(/\s+/)
    .filter((item) => item !== '');
}

/** Perl's split drops trailing empty fields. */
export function dropTrailingEmpty(fields: string[]): string[] {
  let end = fields.length;
  while (end > 0 && fields[end - 1] === '') end--;
  return fields.slice(0, end);
}

function isSafeTextByte(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x24) || (byte >= 0x26 && byte <= 0x39) || (byte >= 0x3b && byte <= 0x7e);
}

/** Percent-encodes control characters, '%', ':' and everything beyond ASCII (as UTF-8). */
export function encodeText(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    out += isSafeTextByte(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Undoes encodeText; also accepts raw UTF-8 and any %XX sequence. */
export function decodeText(data: string): string {
  const raw = new TextEncoder().encode(data);
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && /^[0-9a-fA-F]$/.test(String.fromCharCode(byte));
}

/** Perl truthiness of a scalar: undefined, '', '0' and 0 are false. */
export function perlTrue(value: string | number | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value !== 0;
}
