// The section config format shared by rules.cfg, groups.cfg and
// resources.cfg: sections of a `type: id` header line at column 0 followed by
// indented `key value` lines, separated by blank lines, with `#` comment
// lines anywhere. One schema-driven parser and writer serve all of them; the
// per-format modules decode the generic values into their own shapes.
//
// Reading follows the reference's tolerance: a bad line loses only that
// property, a section with a bad header, an unknown type or a missing
// required property is dropped, and the rest of the file is still used.

import { createHash } from 'node:crypto';

import { type ConfigIssue } from './issues.js';
import { dropTrailingEmpty, perlTrue, splitList } from './pve-text.js';

interface PropertyBase {
  /** Required properties must be present for the section to be kept. */
  optional?: boolean;
}

/** What a property's value may be, and how it reads. */
export type PropertySchema = PropertyBase &
  (
    | { kind: 'string'; maxLength?: number; check?: (value: string) => string | undefined }
    | { kind: 'boolean' }
    | { kind: 'integer'; minimum?: number; maximum?: number }
    | { kind: 'enum'; values: readonly string[] }
    | { kind: 'list'; checkItem?: (item: string) => string | undefined }
  );

/**
 * A parsed value: strings and enums as text, booleans as 0 | 1, integers as
 * numbers, lists as their items.
 */
export type SectionValue = string | number | string[];

export interface SectionTypeSchema {
  properties: Readonly<Record<string, PropertySchema>>;
}

export type HeaderResult = { ok: true; id: string } | { ok: false; message: string };

export interface SectionConfigSchema {
  types: Readonly<Record<string, SectionTypeSchema>>;
  /** Turns a header's (lower-cased) type and id into the section id; defaults to a config-id check. */
  parseHeader?: (type: string, id: string) => HeaderResult;
  /** The header line written for a section; defaults to `type: id`. */
  formatHeader?: (type: string, id: string) => string;
}

export interface ParsedSection {
  type: string;
  id: string;
  /** Line of the section header. */
  line: number;
  values: Record<string, SectionValue>;
}

export interface SectionConfigData {
  sections: Record<string, ParsedSection>;
  /**
   * 1-based position of each section. A section dropped for a missing
   * required property keeps its slot (the reference stores it as undef).
   */
  order: Record<string, number>;
  /** SHA-1 hex of the raw text (UTF-8). */
  digest: string;
}

const CONFIG_ID_RE = /^[a-z][a-z0-9_-]+$/i;

/** Checks a section id or group name; returns a message if it is not a valid config id. */
export function checkConfigId(id: string): string | undefined {
  if (CONFIG_ID_RE.test(id)) return undefined;
  return `'${id}' is not a valid id (expected a letter followed by at least one letter, digit, '_' or '-')`;
}

function defaultParseHeader(_type: string, id: string): HeaderResult {
  const problem = checkConfigId(id);
  return problem === undefined ? { ok: true, id } : { ok: false, message: problem };
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

const HEADER_RE = /^(\S+):\s*(\S+)\s*$/;
const PROPERTY_RE = /^\s+(\S+)(?:\s+([^\n]*\S))?\s*$/;

/** A line that ends a section: empty, or the reference's other false string. */
function endsSection(line: string): boolean {
  return line === '' || line === '0';
}

function checkValue(schema: PropertySchema, raw: string | undefined): { value: SectionValue } | { problem: string } {
  if (raw === undefined) {
    if (schema.kind === 'boolean') return { value: 1 };
    return { problem: 'missing value' };
  }
  if (/[\r\n]/.test(raw)) return { problem: 'value contains a line break' };
  switch (schema.kind) {
    case 'boolean':
      if (raw === '1') return { value: 1 };
      if (raw === '0') return { value: 0 };
      return { problem: `value '${raw}' is not a boolean (expected 0 or 1)` };
    case 'integer': {
      if (!/^[+-]?\d+$/.test(raw)) return { problem: `value '${raw}' is not an integer` };
      // Compared as big integers: past 2^53 a number no longer keeps its digits.
      const exact = BigInt(raw);
      if (schema.minimum !== undefined && exact < BigInt(schema.minimum)) {
        return { problem: `value ${raw} is less than the minimum ${schema.minimum}` };
      }
      const maximum = schema.maximum ?? Number.MAX_SAFE_INTEGER;
      if (exact > BigInt(maximum)) return { problem: `value ${raw} is more than the maximum ${maximum}` };
      return { value: Number(exact) };
    }
    case 'enum':
      if (schema.values.includes(raw)) return { value: raw };
      return { problem: `value '${raw}' is not one of ${schema.values.join(', ')}` };
    case 'string':
      // Characters (code points), as the reference counts them; not UTF-16 units.
      if (schema.maxLength !== undefined && [...raw].length > schema.maxLength) {
        return { problem: `value is ${[...raw].length} characters long (at most ${schema.maxLength} allowed)` };
      }
      if (schema.check) {
        const problem = schema.check(raw);
        if (problem !== undefined) return { problem };
      }
      return { value: raw };
    case 'list': {
      const items = splitList(raw);
      if (schema.checkItem) {
        for (const item of items) {
          const problem = schema.checkItem(item);
          if (problem !== undefined) return { problem };
        }
      }
      return { value: items };
    }
    default: {
      const unreachable: never = schema;
      throw new Error(`unknown property kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Parses section config text. Problems go to `issues`; see the module
 * comment for what is kept when something is wrong.
 */
export function parseSectionConfig(
  schema: SectionConfigSchema,
  text: string,
  file: string,
  issues: ConfigIssue[],
): SectionConfigData {
  const parseHeader = schema.parseHeader ?? defaultParseHeader;
  const sections: Record<string, ParsedSection> = {};
  const order: Record<string, number> = {};
  const lines = dropTrailingEmpty(text.split('\n'));
  const typeNames = Object.keys(schema.types).join(', ');
  // Each type's required properties, found once rather than per section (files hold thousands).
  const requiredOf = new Map<string, string[]>();
  const required = (type: string, typeSchema: SectionTypeSchema): string[] => {
    let keys = requiredOf.get(type);
    if (keys === undefined) {
      keys = Object.keys(typeSchema.properties)
        .filter((key) => !typeSchema.properties[key].optional)
        .sort();
      requiredOf.set(type, keys);
    }
    return keys;
  };

  let index = 0;
  let lineno = 0;
  const nextLine = (): string | undefined => {
    while (index < lines.length) {
      const line = lines[index++];
      lineno = index;
      if (!/^\s*#/.test(line)) return line;
    }
    return undefined;
  };

  let position = 1;
  while (index < lines.length) {
    const headerText = nextLine();
    if (headerText === undefined || endsSection(headerText)) continue;
    const headerLine = lineno;

    const header = HEADER_RE.exec(headerText);
    if (!header) {
      issues.push({
        file,
        line: headerLine,
        message: `cannot read line '${headerText}' (expected a section header '<type>: <id>')`,
      });
      continue;
    }

    const type = header[1].toLowerCase();
    const parsedHeader = parseHeader(type, header[2]);
    const typeSchema = Object.hasOwn(schema.types, type) ? schema.types[type] : undefined;
    let skip = false;
    if (!parsedHeader.ok) {
      skip = true;
      issues.push({ file, line: headerLine, message: `section skipped: ${parsedHeader.message}` });
    } else if (typeSchema === undefined) {
      skip = true;
      issues.push({
        file,
        line: headerLine,
        message: `section '${parsedHeader.id}' skipped: unknown section type '${type}' (expected one of ${typeNames})`,
      });
    }

    const values: Record<string, SectionValue> = {};
    for (let line = nextLine(); line !== undefined && !endsSection(line); line = nextLine()) {
      if (skip || typeSchema === undefined) continue;
      const property = PROPERTY_RE.exec(line);
      if (!property) {
        issues.push({ file, line: lineno, message: `cannot read line '${line}' (expected an indented '<key> <value>')` });
        continue;
      }
      const [, key, raw] = property;
      if (key === 'type' && raw === type) continue;
      const propertySchema = Object.hasOwn(typeSchema.properties, key) ? typeSchema.properties[key] : undefined;
      if (propertySchema === undefined) {
        const known = Object.keys(typeSchema.properties).sort().join(', ');
        issues.push({ file, line: lineno, field: key, message: `unknown property for type '${type}' (expected one of ${known})` });
        continue;
      }
      if (Object.hasOwn(values, key)) {
        issues.push({ file, line: lineno, field: key, message: 'property given twice; the first value is used' });
        continue;
      }
      const checked = checkValue(propertySchema, raw);
      if ('problem' in checked) {
        issues.push({ file, line: lineno, field: key, message: checked.problem });
        continue;
      }
      values[key] = checked.value;
    }

    if (skip || typeSchema === undefined || !parsedHeader.ok) continue;
    const id = parsedHeader.id;
    const missing = required(type, typeSchema).filter((key) => !Object.hasOwn(values, key));
    if (missing.length > 0) {
      issues.push({
        file,
        line: headerLine,
        message: `section '${id}' skipped: missing required ${missing.length > 1 ? 'properties' : 'property'} ${missing.map((k) => `'${k}'`).join(', ')}`,
      });
      delete sections[id];
    } else {
      sections[id] = { type, id, line: headerLine, values };
    }
    order[id] = position++;
  }

  return { sections, order, digest: sha1Hex(text) };
}

/** A section as handed to the writer, values already encoded per format. */
export interface SectionToWrite {
  type: string;
  id: string;
  values: Readonly<Record<string, SectionValue | undefined>>;
}

function formatValue(schema: PropertySchema, key: string, value: SectionValue): string {
  let text: string;
  if (schema.kind === 'boolean') text = perlTrue(value as string | number) ? '1' : '0';
  else text = Array.isArray(value) ? value.join(',') : String(value);
  if (/[\r\n]/.test(key) || /[\r\n]/.test(text)) throw new Error(`property '${key}' contains a line break`);
  return text === '' ? '' : `\t${key} ${text}\n`;
}

/**
 * Writes sections in the given order: the comment first, a bare `disable`
 * if set, then required and optional properties, each alphabetically, one
 * blank line after every section (the reference's layout).
 */
export function writeSectionConfig(schema: SectionConfigSchema, sections: readonly SectionToWrite[]): string {
  const formatHeader = schema.formatHeader ?? ((type: string, id: string) => `${type}: ${id}`);
  let out = '';
  for (const section of sections) {
    const typeSchema = Object.hasOwn(schema.types, section.type) ? schema.types[section.type] : undefined;
    if (typeSchema === undefined) throw new Error(`unknown section type '${section.type}'`);
    const { properties } = typeSchema;
    const values = section.values;
    let data = `${formatHeader(section.type, section.id)}\n`;

    // Any comment but the empty one, `0` included (the reference drops a comment of `0`, and so loses it).
    const comment = values.comment;
    if (comment !== undefined && comment !== '' && properties.comment) {
      data += formatValue(properties.comment, 'comment', comment);
    }
    const disable = values.disable;
    if (disable !== undefined && perlTrue(disable as number)) data += '\tdisable\n';

    const keys = Object.keys(properties)
      .filter((k) => k !== 'comment' && k !== 'disable')
      .sort();
    for (const key of keys) {
      if (properties[key].optional) continue;
      const value = values[key];
      if (value === undefined) {
        throw new Error(`section '${section.id}' - missing value for required option '${key}'`);
      }
      data += formatValue(properties[key], key, value);
    }
    for (const key of keys) {
      if (!properties[key].optional) continue;
      const value = values[key];
      if (value === undefined) continue;
      data += formatValue(properties[key], key, value);
    }
    out += `${data}\n`;
  }
  return out;
}

/**
 * Section ids in write order: by ordinal, sections without one after all
 * others (by id), equal ordinals by id. The reference breaks ties in hash
 * order.
 */
export function idsInOrder(ids: readonly string[], order: Readonly<Record<string, number>>): string[] {
  let maxOrder = 0;
  for (const id of ids) {
    const o = order[id];
    if (o !== undefined && o > maxOrder) maxOrder = o;
  }
  const effective = new Map<string, number>();
  for (const id of [...ids].sort()) {
    const o = order[id];
    effective.set(id, o === undefined ? ++maxOrder : o);
  }
  return [...ids].sort((a, b) => {
    const d = (effective.get(a) ?? 0) - (effective.get(b) ?? 0);
    if (d !== 0) return d;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
