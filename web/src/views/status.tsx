// The status view: quorum, master, fencing (with arm/disarm), the cluster's
// timing and the failover it implies, every node and its LRM, every
// resource with its state and node — live from the event stream (the
// timing, which changes only with a restart of the daemons, read once).

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ha } from '../api';
import { entriesOf, nodeNames, type LiveStatus, type ViewItem } from '../status';
import { Actions, Badge, Dialog, ErrorBox, Field, Select, failureOf, useAction, type Failure } from '../ui';

function DisarmDialog({ onClose, onDone }: { onClose(): void; onDone(message: string): void }) {
  const [mode, setMode] = useState('freeze');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await action.run(() => ha('POST', 'status/disarm-ha', { 'resource-mode': mode }))) {
      onDone(`Disarming HA requested (resource mode ${mode})`);
      onClose();
    }
  };
  return (
    <Dialog title="Disarm HA" onClose={onClose}>
      <form onSubmit={submit}>
        <p>
          Every node releases its watchdog: no node will be fenced until HA is armed again. Use it for cluster-wide
          maintenance (network or storage work).
        </p>
        <Field label="Resource mode" name="resource-mode" failure={action.failure} hint="freeze: keep resources as they are; ignore: leave them to be managed by hand">
          <Select name="resource-mode" value={mode} options={['freeze', 'ignore']} onValue={setMode} />
        </Field>
        <ErrorBox failure={action.failure} />
        <Actions busy={action.busy} submit="Disarm" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** What the status view shows of `GET timing` (durations in milliseconds). */
interface Timing {
  profile: string;
  'time-scale': number;
  safe: 0 | 1;
  failover: number;
  'master-failover': number;
}

/** `140s`, `1250ms`: as ha-manager check-timings writes durations. */
const duration = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function TimingCard() {
  const [timing, setTiming] = useState<Timing | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  useEffect(() => {
    ha<Timing>('GET', 'timing').then(setTiming, (err: unknown) => setFailure(failureOf(err)));
  }, []);
  return (
    <div class="card" data-card="timing">
      <h3>Timing</h3>
      {timing === undefined ? (
        <ErrorBox failure={failure} />
      ) : (
        <>
          <p>
            profile <strong>{timing.profile}</strong>
            {timing['time-scale'] !== 1 && <span class="muted"> at time-scale {timing['time-scale']}</span>}
            {!timing.safe && (
              <>
                {' '}
                <Badge state="unsafe" />
              </>
            )}
          </p>
          <p class="muted" data-timing="failover">
            failover after a node reset: up to {duration(timing.failover)} ({duration(timing['master-failover'])} if it ran the master), plus the service's start
          </p>
        </>
      )}
    </div>
  );
}

function Summary({ live, admin, notify }: { live: LiveStatus; admin: boolean; notify(message: string): void }) {
  const view = live.view ?? {};
  const quorum = view.quorum;
  const master = view.master;
  const fencing = view.fencing;
  const [disarming, setDisarming] = useState(false);
  const arm = useAction();
  const armed = String(fencing?.armed_state ?? 'unknown');
  return (
    <section class="cards">
      <div class="card" data-card="quorum">
        <h3>Quorum</h3>
        {quorum === undefined ? <Badge state={undefined} /> : <Badge state={quorum.quorate ? 'OK' : 'no quorum'} />}
        <p class="muted">seen from {String(quorum?.node ?? '—')}</p>
      </div>
      <div class="card" data-card="master">
        <h3>Master</h3>
        {master === undefined ? (
          <p>none</p>
        ) : (
          <p>
            <strong>{String(master.node)}</strong> <Badge state={master.state} />
          </p>
        )}
      </div>
      <div class="card" data-card="fencing">
        <h3>Fencing</h3>
        <p>
          <Badge state={armed} /> {fencing?.resource_mode !== undefined && <span class="muted">resource mode {String(fencing.resource_mode)}</span>}
        </p>
        {admin &&
          (armed === 'disarmed' || armed === 'disarming' ? (
            <button type="button" disabled={arm.busy} onClick={() => void arm.run(() => ha('POST', 'status/arm-ha')).then((ok) => ok && notify('Arming HA requested'))}>
              Arm HA
            </button>
          ) : (
            <button type="button" class="danger" onClick={() => setDisarming(true)}>
              Disarm HA…
            </button>
          ))}
        <ErrorBox failure={arm.failure} onClose={arm.clear} />
      </div>
      <TimingCard />
      {disarming && <DisarmDialog onClose={() => setDisarming(false)} onDone={notify} />}
    </section>
  );
}

export function NodeTable({ live, actions }: { live: LiveStatus; actions?: (node: string) => ComponentChildren }) {
  const view = live.view ?? {};
  const names = nodeNames(live.view);
  return (
    <table class="grid" data-table="nodes">
      <thead>
        <tr>
          <th>Node</th>
          <th>Cluster</th>
          <th>HA state</th>
          <th>LRM</th>
          <th>LRM mode</th>
          {actions && <th />}
        </tr>
      </thead>
      <tbody>
        {names.length === 0 && (
          <tr>
            <td colSpan={6} class="muted">
              No cluster node known yet.
            </td>
          </tr>
        )}
        {names.map((node) => {
          const known = view[`node:${node}`];
          // a node the master has not taken in yet (no master while nothing is managed) has no HA state
          const state = known === undefined ? undefined : String(known.state);
          const lrm = view[`lrm:${node}`];
          const member = view[`member:${node}`];
          return (
            <tr key={node} data-node={node} class={state === 'fence' ? 'row-bad' : undefined}>
              <td>{node}</td>
              <td>
                <Badge state={member === undefined ? undefined : member.online ? 'online' : 'offline'} />
              </td>
              <td data-col="ha-state">
                <Badge state={state} />
              </td>
              <td>
                <Badge state={lrm?.state} />
              </td>
              <td>{lrm?.mode === undefined ? '—' : String(lrm.mode)}</td>
              {actions && <td class="row-actions">{actions(node)}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ServiceTable({ services }: { services: ViewItem[] }) {
  return (
    <table class="grid" data-table="services">
      <thead>
        <tr>
          <th>Resource</th>
          <th>State</th>
          <th>Node</th>
          <th>Requested</th>
          <th>Manager state</th>
        </tr>
      </thead>
      <tbody>
        {services.length === 0 && (
          <tr>
            <td colSpan={5} class="muted">
              No HA resources.
            </td>
          </tr>
        )}
        {services.map((service) => (
          <tr key={String(service.sid)} data-sid={String(service.sid)}>
            <td>{String(service.sid)}</td>
            <td data-col="state">
              <Badge state={service.state} />
            </td>
            <td data-col="node">{String(service.node ?? '—')}</td>
            <td>{String(service.request_state ?? '—')}</td>
            <td>{String(service.crm_state ?? '—')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusView({ live, admin, notify }: { live: LiveStatus; admin: boolean; notify(message: string): void }) {
  return (
    <div>
      <h1>Status</h1>
      <Summary live={live} admin={admin} notify={notify} />
      <h2>Nodes</h2>
      <NodeTable live={live} />
      <h2>Resources</h2>
      <ServiceTable services={entriesOf(live.view, 'service')} />
    </div>
  );
}
