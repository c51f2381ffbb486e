// The resource types the real daemons (and the CLI) know: Proxmox VE guests,
// and `exec` services run by a script of that name.

import { DEFAULT_RESOURCE_TYPES, type ResourceTypeSpec } from '../../config/resources-config.js';

export const NODE_RESOURCE_TYPES: Readonly<Record<string, ResourceTypeSpec>> = {
  ...DEFAULT_RESOURCE_TYPES,
  exec: {
    checkName: (name) =>
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? undefined : `invalid script name '${name}' (letters, digits, '.', '_', '-')`,
  },
};
