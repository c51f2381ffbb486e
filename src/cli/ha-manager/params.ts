// Parsers for option and argument values, in the formats the reference's
// API schema accepts. A bad value is reported by commander as
// "option '--x <v>' argument 'y' is invalid." followed by what is accepted.

import { InvalidArgumentError } from 'commander';

import { checkConfigId } from '../../config/section-config.js';
import { checkNodeListEntry, checkResourceId } from '../../config/rules-config.js';
import { splitList } from '../../config/pve-text.js';

const invalid = (message: string): never => {
  throw new InvalidArgumentError(message);
};

/** A boolean the way the reference's command line reads one. */
export function parseBooleanValue(value: string): 0 | 1 {
  if (/^(1|on|yes|true)$/i.test(value)) return 1;
  if (/^(0|off|no|false)$/i.test(value)) return 0;
  return invalid('Expected 1/0, yes/no, on/off or true/false.');
}

export function integerParser(minimum?: number): (value: string) => number {
  return (value) => {
    if (!/^[+-]?\d+$/.test(value)) invalid(`Expected an integer${minimum === undefined ? '' : ` from ${minimum} up`}.`);
    const n = Number(value);
    if (minimum !== undefined && n < minimum) invalid(`Expected an integer from ${minimum} up.`);
    return n;
  };
}

export function enumParser<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    return invalid(`Expected one of: ${values.join(', ')}.`);
  };
}

/**
 * A comma separated list; the option may also be repeated, as with the
 * reference (`--resources vm:100 --resources vm:101`).
 */
export function listParser(checkItem: (item: string) => string | undefined): (value: string, previous?: string) => string {
  return (value, previous) => {
    const items = splitList(value);
    if (items.length === 0) invalid('Expected a non-empty list.');
    for (const item of items) {
      const problem = checkItem(item);
      if (problem !== undefined) invalid(`${problem}.`);
    }
    const joined = items.join(',');
    return previous === undefined ? joined : `${previous},${joined}`;
  };
}

export const resourceListParser = listParser(checkResourceId);
export const nodeListParser = listParser(checkNodeListEntry);
export const optionNameListParser = listParser(checkConfigId);

/** A section id: a rule or group name. */
export function parseConfigId(value: string): string {
  const problem = checkConfigId(value);
  if (problem !== undefined) invalid(`${problem}.`);
  return value;
}

/** `type:name` (`vm:100`), or a bare guest id (`100`). */
export function parseResourceOrVmId(value: string): string {
  if (/^([a-z]+:\S+|\d+)$/.test(value)) return value;
  return invalid('Expected <type>:<name> (e.g. vm:100) or a guest id (e.g. 100).');
}

const NODE_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

export function parseNodeName(value: string): string {
  if (NODE_NAME_RE.test(value)) return value;
  return invalid('Expected a node name (letters, digits and inner dashes).');
}

/** Free text kept on one line of a config file. */
export function parseComment(value: string): string {
  if (/[\r\n]/.test(value)) invalid('A comment must fit on one line.');
  if (value.length > 4096) invalid(`At most 4096 characters allowed (got ${value.length}).`);
  return value;
}
