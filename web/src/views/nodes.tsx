// Nodes: each node's HA state and LRM, and node maintenance (the master
// moves the node's resources away and keeps them away until it ends).

import { useState } from 'preact/hooks';

import { ha } from '../api';
import type { LiveStatus } from '../status';
import { ErrorBox, failureOf, type Failure } from '../ui';
import { NodeTable } from './status';

export function NodesView({ live, admin, notify }: { live: LiveStatus; admin: boolean; notify(message: string): void }) {
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const view = live.view ?? {};

  const maintenance = async (node: string, enable: boolean) => {
    setBusy(node);
    setFailure(undefined);
    try {
      await ha('POST', 'status/node-maintenance', { node, disable: enable ? 0 : 1 });
      notify(`Maintenance ${enable ? 'requested' : 'end requested'} for ${node}`);
    } catch (err) {
      setFailure(failureOf(err));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div>
      <h1>Nodes</h1>
      <p class="muted">
        Maintenance mode moves a node's resources to other nodes and keeps them there until it ends; the node is not fenced meanwhile.
      </p>
      <ErrorBox failure={failure} onClose={() => setFailure(undefined)} />
      <NodeTable
        live={live}
        actions={
          admin
            ? (node) => {
                const inMaintenance = view[`node:${node}`]?.state === 'maintenance' || view[`lrm:${node}`]?.mode === 'maintenance';
                return (
                  <button type="button" class="small" disabled={busy === node} onClick={() => void maintenance(node, !inMaintenance)}>
                    {inMaintenance ? 'End maintenance' : 'Enter maintenance'}
                  </button>
                );
              }
            : undefined
        }
      />
    </div>
  );
}
