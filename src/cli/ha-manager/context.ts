// What every ha-manager command runs against: the cluster store, the node it
// runs on, the clock and the terminal. The process entry binds the real ones;
// tests bind a memory store, a fixed clock and string buffers.

import type { NodeName } from '../../core/types.js';
import { DEFAULT_RESOURCE_TYPES, type ResourceTypeSpec } from '../../config/resources-config.js';
import type { ClusterStore } from '../../env/node/store.js';

/**
 * A resource type the CLI accepts. Guests (`qemu`, `lxc`) are located by
 * their config file below `nodes/<node>/`; any other type by a marker file
 * the CLI writes on `add --node` (see layout.ts guestConfigPath).
 */
export interface CliResourceType extends ResourceTypeSpec {
  guest?: 'qemu' | 'lxc';
}

const GUEST_KINDS: Readonly<Record<string, 'qemu' | 'lxc'>> = { vm: 'qemu', ct: 'lxc' };

/** The CLI's view of the daemons' resource types: `vm` and `ct` are guests, the rest are not. */
export function cliResourceTypes(types: Readonly<Record<string, ResourceTypeSpec>>): Record<string, CliResourceType> {
  const result: Record<string, CliResourceType> = {};
  for (const [type, spec] of Object.entries(types)) {
    const guest = Object.hasOwn(GUEST_KINDS, type) ? GUEST_KINDS[type] : undefined;
    result[type] = guest === undefined ? { checkName: spec.checkName } : { checkName: spec.checkName, guest };
  }
  return result;
}

/** Virtual machines and containers, as on a Proxmox VE node. */
export const GUEST_RESOURCE_TYPES: Readonly<Record<string, CliResourceType>> = cliResourceTypes(DEFAULT_RESOURCE_TYPES);

export interface TerminalOptions {
  /** Draw table borders with box-drawing characters (the locale is UTF-8). */
  utf8: boolean;
  /** Cut table lines to this width (stdout is a terminal of this width). */
  columns?: number;
}

export interface CliContext {
  store: ClusterStore;
  /** The node the tool runs on: named in the quorum line, always accepted as a rule node. */
  nodename: NodeName;
  /** Seconds since the epoch. */
  now(): number;
  /** IANA zone for printed timestamps; the process's local zone when unset. */
  timeZone?: string;
  resourceTypes: Readonly<Record<string, CliResourceType>>;
  terminal: TerminalOptions;
  stdout(text: string): void;
  stderr(text: string): void;
}
