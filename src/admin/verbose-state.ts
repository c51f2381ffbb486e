// The state `ha-manager status` shows for a service: the manager's state,
// adjusted to what the user asked for so that a request shows at once
// (`starting` while the manager still has it stopped, and so on).

import type { NodeName, RequestedState, ServiceStatusEntry } from '../core/types.js';

export function verboseServiceState(
  ss: Readonly<ServiceStatusEntry> | undefined,
  sc: { state: RequestedState; node?: NodeName } | undefined,
): string {
  if (sc === undefined) return 'deleting';
  if (sc.state === 'ignored') return 'ignored';
  if (sc.node === undefined) return 'not found';
  // not yet taken over by the manager
  if (ss === undefined) return 'queued';

  const requested = sc.state;
  switch (ss.state) {
    case 'stopped':
      if (requested === 'started') return 'starting';
      if (requested === 'disabled') return 'disabled';
      return 'stopped';
    case 'started':
      if (!ss.running) return 'starting';
      return requested === 'stopped' || requested === 'disabled' ? 'stopping' : 'started';
    case 'error':
      return requested === 'disabled' ? 'clearing error flag' : 'error';
    default:
      return ss.state;
  }
}
