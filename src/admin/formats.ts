// The value formats of the administrative parameters (the reference's
// registered formats: pve-configid, pve-node, pve-ha-resource-or-vm-id, the
// resource and node lists), each a check that also normalises: what it
// returns is what gets written, in the form the file's parser reads back
// as the same value.

import { splitList } from '../config/pve-text.js';
import { checkNodeListEntry, checkResourceId } from '../config/rules-config.js';
import { checkConfigId } from '../config/section-config.js';
import { parseNodePriority } from '../core/rules/node-priority.js';

export type FormatName =
  | 'pve-configid'
  | 'pve-configid-list'
  | 'pve-node'
  | 'pve-ha-resource-or-vm-id'
  | 'pve-ha-resource-id-list'
  | 'pve-ha-node-list'
  | 'single-line-text';

type Checked = { value: string } | { problem: string };

const NODE_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const RESOURCE_OR_VM_ID_RE = /^([a-z]+:\S+|\d+)$/;
/** What the config parsers strip around a value: a comment cannot keep it. */
const EDGE_SPACE_RE = /^\s+|\s+$/g;

/** A list's items, each checked, none twice; joined with commas. */
function checkList(raw: string, checkItem: (item: string) => Checked, key: (item: string) => string = (item) => item): Checked {
  const items = splitList(raw);
  if (items.length === 0) return { problem: 'expected a non-empty list' };
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const checked = checkItem(item);
    if ('problem' in checked) return checked;
    const id = key(checked.value);
    if (seen.has(id)) return { problem: `'${id}' is listed twice` };
    seen.add(id);
    out.push(checked.value);
  }
  return { value: out.join(',') };
}

function fromProblem(problem: string | undefined, value: string): Checked {
  return problem === undefined ? { value } : { problem };
}

/** `node` or `node:priority`, the priority without leading zeros and left out when 0. */
function checkNodeEntry(item: string): Checked {
  const problem = checkNodeListEntry(item);
  if (problem !== undefined) return { problem };
  const parsed = parseNodePriority(item);
  if (parsed === undefined) return { problem: `'${item}' is not a valid node entry` };
  return { value: parsed.priority === 0 ? parsed.node : `${parsed.node}:${parsed.priority}` };
}

export function checkFormat(format: FormatName, raw: string): Checked {
  switch (format) {
    case 'pve-configid':
      return fromProblem(checkConfigId(raw), raw);
    case 'pve-configid-list':
      return checkList(raw, (item) => fromProblem(checkConfigId(item), item));
    case 'pve-node':
      return NODE_NAME_RE.test(raw)
        ? { value: raw }
        : { problem: `'${raw}' is not a valid node name (letters, digits and inner dashes)` };
    case 'pve-ha-resource-or-vm-id':
      return RESOURCE_OR_VM_ID_RE.test(raw)
        ? { value: raw }
        : { problem: `'${raw}' does not look like a valid ha resource id (expected <type>:<name>, e.g. vm:100, or a guest id, e.g. 100)` };
    case 'pve-ha-resource-id-list':
      return checkList(raw, (item) => fromProblem(checkResourceId(item), item));
    case 'pve-ha-node-list':
      return checkList(raw, checkNodeEntry, (entry) => entry.split(':')[0]);
    case 'single-line-text':
      if (/[\r\n]/.test(raw)) return { problem: 'value must fit on one line (no line breaks)' };
      return { value: raw.replace(EDGE_SPACE_RE, '') };
    default: {
      const unreachable: never = format;
      throw new Error(`unknown format ${String(unreachable)}`);
    }
  }
}
