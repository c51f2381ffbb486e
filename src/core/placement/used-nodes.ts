import type { NodeName, ServiceStatusEntry } from '../types.js';

/** The nodes a service puts load on: where it is and where it is going. */
export interface UsedNodes {
  current?: NodeName;
  target?: NodeName;
}

/**
 * Which online nodes carry a service, given its status entry. A stopped
 * service, or one only asked to start, loads no node yet; a moving service
 * loads both its source and its target.
 */
export function usedServiceNodes(
  onlineNodes: ReadonlySet<NodeName>,
  sd: Pick<ServiceStatusEntry, 'state' | 'node' | 'target'>,
): UsedNodes {
  const { state, node, target } = sd;
  const used: UsedNodes = {};
  switch (state) {
    case 'stopped':
    case 'request_start':
      return used;
    case 'started':
    case 'request_stop':
    case 'fence':
    case 'freeze':
    case 'error':
    case 'recovery':
      if (onlineNodes.has(node)) used.current = node;
      return used;
    case 'migrate':
    case 'relocate':
      if (onlineNodes.has(node)) used.current = node;
      if (target !== undefined && onlineNodes.has(target)) used.target = target;
      return used;
    case 'request_start_balance':
      if (target !== undefined && onlineNodes.has(target)) used.target = target;
      return used;
    default: {
      const unreachable: never = state;
      throw new Error(`unknown service state '${String(unreachable)}'`);
    }
  }
}
