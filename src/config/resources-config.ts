// resources.cfg: the HA resources, one section per resource, the header
// naming its type and name, e.g.
//
//   vm: 100
//   	state started
//   	max_relocate 2
//
// is resource `vm:100`. Its node is not in the file; the cluster knows
// where each guest lives.

import type { NodeName, RequestedState, ServiceConfig, Sid } from '../core/types.js';
import { settleIssues, type ConfigIssue } from './issues.js';
import {
  checkConfigId,
  idsInOrder,
  parseSectionConfig,
  writeSectionConfig,
  type HeaderResult,
  type ParsedSection,
  type SectionConfigSchema,
  type SectionTypeSchema,
} from './section-config.js';

/** States a resource may be configured with; `enabled` is an old spelling of `started`. */
export const RESOURCE_STATE_SETTINGS = ['started', 'stopped', 'enabled', 'disabled', 'ignored'] as const;
export type ResourceStateSetting = (typeof RESOURCE_STATE_SETTINGS)[number];

/** One section of resources.cfg, as written (no defaults applied). */
export interface ResourceEntry {
  type: string;
  state?: ResourceStateSetting;
  group?: string;
  failback?: 0 | 1;
  max_restart?: number;
  max_relocate?: number;
  comment?: string;
}

export interface ResourcesConfig {
  ids: Record<Sid, ResourceEntry>;
  order: Record<Sid, number>;
  digest: string;
}

/** A resource type: how its names look. */
export interface ResourceTypeSpec {
  /** Returns why `name` is not valid for the type, or undefined. */
  checkName(name: string): string | undefined;
}

const checkVmid = (name: string) =>
  /^[1-9][0-9]+$/.test(name) ? undefined : `invalid VMID '${name}' (expected a number from 10 up)`;

/** The resource types of a Proxmox VE node: virtual machines and containers. */
export const DEFAULT_RESOURCE_TYPES: Readonly<Record<string, ResourceTypeSpec>> = {
  vm: { checkName: checkVmid },
  ct: { checkName: checkVmid },
};

const RESOURCE_PROPERTIES: SectionTypeSchema = {
  properties: {
    state: { kind: 'enum', optional: true, values: RESOURCE_STATE_SETTINGS },
    group: { kind: 'string', optional: true, check: checkConfigId },
    failback: { kind: 'boolean', optional: true },
    max_restart: { kind: 'integer', optional: true, minimum: 0 },
    max_relocate: { kind: 'integer', optional: true, minimum: 0 },
    comment: { kind: 'string', optional: true, maxLength: 4096 },
  },
};

function schemaFor(types: Readonly<Record<string, ResourceTypeSpec>>): SectionConfigSchema {
  const typeNames = Object.keys(types);
  return {
    types: Object.fromEntries(typeNames.map((t) => [t, RESOURCE_PROPERTIES])),
    parseHeader(type: string, name: string): HeaderResult {
      const spec = Object.hasOwn(types, type) ? types[type] : undefined;
      if (spec === undefined) {
        return { ok: false, message: `no such resource type '${type}' (expected one of ${typeNames.join(', ')})` };
      }
      const problem = spec.checkName(name);
      return problem === undefined ? { ok: true, id: `${type}:${name}` } : { ok: false, message: problem };
    },
    formatHeader(type: string, sid: string): string {
      return `${type}: ${sid.slice(sid.indexOf(':') + 1)}`;
    },
  };
}

function toEntry(section: ParsedSection): ResourceEntry {
  const v = section.values;
  const entry: ResourceEntry = { type: section.type };
  if (v.state !== undefined) entry.state = v.state as ResourceStateSetting;
  if (v.group !== undefined) entry.group = v.group as string;
  if (v.failback !== undefined) entry.failback = v.failback as 0 | 1;
  if (v.max_restart !== undefined) entry.max_restart = v.max_restart as number;
  if (v.max_relocate !== undefined) entry.max_relocate = v.max_relocate as number;
  if (v.comment !== undefined) entry.comment = v.comment as string;
  return entry;
}

/**
 * Parses resources.cfg. With `issues`, problems are reported there and the
 * usable rest returned; without, any problem throws a ConfigError.
 */
export function parseResourcesConfig(
  text: string,
  file = 'resources.cfg',
  issues?: ConfigIssue[],
  types: Readonly<Record<string, ResourceTypeSpec>> = DEFAULT_RESOURCE_TYPES,
): ResourcesConfig {
  const found: ConfigIssue[] = [];
  const data = parseSectionConfig(schemaFor(types), text, file, found);
  settleIssues(found, issues);
  const ids: Record<Sid, ResourceEntry> = {};
  for (const sid in data.sections) ids[sid] = toEntry(data.sections[sid]);
  return { ids, order: data.order, digest: data.digest };
}

export function writeResourcesConfig(
  resources: Pick<ResourcesConfig, 'ids' | 'order'>,
  types: Readonly<Record<string, ResourceTypeSpec>> = DEFAULT_RESOURCE_TYPES,
): string {
  return writeSectionConfig(
    schemaFor(types),
    idsInOrder(Object.keys(resources.ids), resources.order).map((sid) => {
      const { type, ...values } = resources.ids[sid];
      return { type, id: sid, values };
    }),
  );
}

/** The requested state with `enabled` read as `started`, and `fallback` when unset. */
export function requestedState(state: ResourceStateSetting | undefined, fallback: RequestedState): RequestedState {
  if (state === undefined) return fallback;
  return state === 'enabled' ? 'started' : state;
}

/**
 * The core's view of resources.cfg, the reference's defaults applied: state
 * `started`, failback on, one restart and one relocation. `nodeOf` tells
 * where a resource's guest lives. The reference keeps resources whose guest
 * it cannot find, without a node; the core's ServiceConfig needs one, so
 * those are returned apart in `unlocated`.
 */
export function resourcesToServiceConfig(
  resources: Pick<ResourcesConfig, 'ids'>,
  nodeOf: (sid: Sid, type: string, name: string) => NodeName | undefined,
): { services: Record<Sid, ServiceConfig>; unlocated: Sid[] } {
  const services: Record<Sid, ServiceConfig> = {};
  const unlocated: Sid[] = [];
  for (const sid of Object.keys(resources.ids).sort()) {
    const entry = resources.ids[sid];
    const name = sid.slice(sid.indexOf(':') + 1);
    const node = nodeOf(sid, entry.type, name);
    if (node === undefined) {
      unlocated.push(sid);
      continue;
    }
    services[sid] = {
      type: entry.type,
      name,
      node,
      state: requestedState(entry.state, 'started'),
      ...(entry.group !== undefined ? { group: entry.group } : {}),
      failback: entry.failback === undefined ? true : entry.failback === 1,
      max_restart: entry.max_restart ?? 1,
      max_relocate: entry.max_relocate ?? 1,
      ...(entry.comment !== undefined ? { comment: entry.comment } : {}),
    };
  }
  return { services, unlocated };
}
