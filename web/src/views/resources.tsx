// Resources: the configured HA resources with their live state; add, edit,
// remove, migrate and relocate.

import { useEffect, useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { nodeNames, type LiveStatus } from '../status';
import { Actions, Badge, Checkbox, Dialog, ErrorBox, Field, Select, TextInput, failureOf, flag, useAction, type Failure } from '../ui';

interface Resource {
  sid: string;
  type: string;
  state?: string;
  group?: string;
  failback?: number;
  max_restart?: number;
  max_relocate?: number;
  comment?: string;
  digest: string;
  errors?: Record<string, string>;
}

interface MotionResult {
  sid: string;
  'requested-node': string;
  'comigrated-resources'?: string[];
  'blocking-resources'?: Array<{ sid: string; cause: string }>;
}

const STATES = ['started', 'stopped', 'disabled', 'ignored'];

function ResourceForm({ resource, nodes, onClose, onDone }: { resource?: Resource; nodes: string[]; onClose(): void; onDone(message: string): void }) {
  const editing = resource !== undefined;
  const [sid, setSid] = useState(resource?.sid ?? '');
  const [node, setNode] = useState('');
  const [state, setState] = useState(resource?.state ?? 'started');
  const [maxRestart, setMaxRestart] = useState(resource?.max_restart === undefined ? '' : String(resource.max_restart));
  const [maxRelocate, setMaxRelocate] = useState(resource?.max_relocate === undefined ? '' : String(resource.max_relocate));
  const [failback, setFailback] = useState(resource?.failback !== 0);
  const [comment, setComment] = useState(resource?.comment ?? '');
  const action = useAction();
  const guest = /^(vm|ct):|^\d+$/.test(sid);

  const submit = async (e: Event) => {
    e.preventDefault();
    // Only what differs from the current setting (or the default) is sent, so nothing else is written.
    const settings = {
      state: state === (resource?.state ?? 'started') ? undefined : state,
      // left empty: the default (on create), or back to the default (on edit, through `delete`)
      max_restart: maxRestart === '' || maxRestart === String(resource?.max_restart ?? '') ? undefined : maxRestart,
      max_relocate: maxRelocate === '' || maxRelocate === String(resource?.max_relocate ?? '') ? undefined : maxRelocate,
      failback: failback === (resource?.failback !== 0) ? undefined : flag(failback),
      comment: comment === (resource?.comment ?? '') ? undefined : comment,
    };
    const ok = await action.run(async () => {
      if (editing) {
        const reset = [
          maxRestart === '' && resource.max_restart !== undefined && 'max_restart',
          maxRelocate === '' && resource.max_relocate !== undefined && 'max_relocate',
        ]
          .filter(Boolean)
          .join(',');
        await ha('PUT', `resources/${enc(resource.sid)}`, { ...settings, delete: reset === '' ? undefined : reset, digest: resource.digest });
      } else {
        await ha('POST', 'resources', { sid, node: guest || node === '' ? undefined : node, ...settings });
      }
    });
    if (ok) {
      onDone(editing ? `Resource ${resource.sid} changed` : `Resource ${sid} added`);
      onClose();
    }
  };

  return (
    <Dialog title={editing ? `Edit ${resource.sid}` : 'Add resource'} onClose={onClose}>
      <form onSubmit={submit} class="form">
        <Field label="Resource ID" name="sid" failure={action.failure} hint="vm:100, ct:101, exec:web (a script service)">
          <TextInput name="sid" value={sid} onValue={setSid} disabled={editing} placeholder="exec:web" autoFocus={!editing} />
        </Field>
        {!editing && !guest && (
          <Field label="Node" name="node" failure={action.failure} hint="where a script service runs now">
            <Select name="node" value={node} options={nodes} onValue={setNode} blank="(choose)" />
          </Field>
        )}
        <Field label="Requested state" name="state" failure={action.failure}>
          <Select name="state" value={state} options={STATES} onValue={setState} />
        </Field>
        <div class="row">
          <Field label="Max. restart" name="max_restart" failure={action.failure} hint="default 1">
            <TextInput name="max_restart" inputMode="numeric" value={maxRestart} onValue={setMaxRestart} />
          </Field>
          <Field label="Max. relocate" name="max_relocate" failure={action.failure} hint="default 1">
            <TextInput name="max_relocate" inputMode="numeric" value={maxRelocate} onValue={setMaxRelocate} />
          </Field>
        </div>
        <Field label="" name="failback" failure={action.failure}>
          <Checkbox name="failback" checked={failback} onValue={setFailback} label="Fail back to the preferred node" />
        </Field>
        <Field label="Comment" name="comment" failure={action.failure}>
          <TextInput name="comment" value={comment} onValue={setComment} />
        </Field>
        <ErrorBox failure={action.failure} />
        <Actions busy={action.busy} submit={editing ? 'Save' : 'Add'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function MoveForm({ sid, kind, nodes, onClose, onDone }: { sid: string; kind: 'migrate' | 'relocate'; nodes: string[]; onClose(): void; onDone(message: string): void }) {
  const [node, setNode] = useState('');
  const action = useAction();
  const [blocked, setBlocked] = useState<Failure | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    let result: MotionResult | undefined;
    const ok = await action.run(async () => {
      result = await ha<MotionResult>('POST', `resources/${enc(sid)}/${kind}`, { node });
    });
    if (!ok || result === undefined) return;
    const blocking = result['blocking-resources'];
    if (blocking !== undefined) {
      setBlocked({ message: `Not requested: ${blocking.map((b) => b.sid).join(', ')} must stay apart from ${sid} (resource affinity)`, errors: {} });
      return;
    }
    const along = result['comigrated-resources'];
    onDone(`${kind === 'migrate' ? 'Migration' : 'Relocation'} of ${sid} to ${node} requested${along ? ` (with ${along.join(', ')})` : ''}`);
    onClose();
  };
  return (
    <Dialog title={`${kind === 'migrate' ? 'Migrate' : 'Relocate'} ${sid}`} onClose={onClose}>
      <form onSubmit={submit} class="form">
        <p class="muted">
          {kind === 'migrate' ? 'Moves the resource while it runs (online migration).' : 'Stops the resource, then starts it on the target node.'}
        </p>
        <Field label="Target node" name="node" failure={action.failure}>
          <Select name="node" value={node} options={nodes} onValue={setNode} blank="(choose)" />
        </Field>
        <ErrorBox failure={action.failure ?? blocked} />
        <Actions busy={action.busy} submit={kind === 'migrate' ? 'Migrate' : 'Relocate'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

type Editing = { kind: 'add' } | { kind: 'edit'; resource: Resource } | { kind: 'migrate' | 'relocate'; sid: string } | undefined;

export function ResourcesView({ live, admin, notify }: { live: LiveStatus; admin: boolean; notify(message: string): void }) {
  const [resources, setResources] = useState<Resource[] | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [editing, setEditing] = useState<Editing>(undefined);
  const [generation, setGeneration] = useState(0);
  const nodes = nodeNames(live.view);
  const view = live.view ?? {};
  // the settings change rarely: read again after each change made here, and when the live view adds or drops one
  const serviceIds = Object.keys(view).filter((id) => id.startsWith('service:')).sort().join(',');

  useEffect(() => {
    ha<Resource[]>('GET', 'resources').then(
      (list) => {
        setResources(list);
        setFailure(undefined);
      },
      (err: unknown) => setFailure(failureOf(err)),
    );
  }, [generation, serviceIds]);

  const done = (message: string) => {
    notify(message);
    setGeneration((g) => g + 1);
  };
  const remove = async (sid: string) => {
    if (!window.confirm(`Remove ${sid} from HA management? It keeps running, unmanaged.`)) return;
    try {
      await ha('DELETE', `resources/${enc(sid)}`);
      done(`Resource ${sid} removed`);
    } catch (err) {
      setFailure(failureOf(err));
    }
  };

  return (
    <div>
      <div class="title-row">
        <h1>Resources</h1>
        {admin && (
          <button type="button" onClick={() => setEditing({ kind: 'add' })}>
            Add resource
          </button>
        )}
      </div>
      <ErrorBox failure={failure} onClose={() => setFailure(undefined)} />
      <table class="grid" data-table="resources">
        <thead>
          <tr>
            <th>Resource</th>
            <th>State</th>
            <th>Node</th>
            <th>Requested</th>
            <th>Restart / relocate</th>
            <th>Comment</th>
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {resources !== undefined && resources.length === 0 && (
            <tr>
              <td colSpan={7} class="muted">
                No HA resources yet.
              </td>
            </tr>
          )}
          {(resources ?? []).map((resource) => {
            const live = view[`service:${resource.sid}`];
            return (
              <tr key={resource.sid} data-sid={resource.sid}>
                <td>
                  {resource.sid}
                  {resource.errors &&
                    Object.entries(resource.errors).map(([key, message]) => (
                      <div key={key} class="field-error">
                        {key}: {message}
                      </div>
                    ))}
                </td>
                <td data-col="state">
                  <Badge state={live?.state} />
                </td>
                <td data-col="node">{String(live?.node ?? '—')}</td>
                <td>{resource.state ?? 'started'}</td>
                <td>
                  {resource.max_restart ?? 1} / {resource.max_relocate ?? 1}
                </td>
                <td>{resource.comment ?? ''}</td>
                {admin && (
                  <td class="row-actions">
                    <button type="button" class="small" onClick={() => setEditing({ kind: 'edit', resource })}>
                      Edit
                    </button>
                    <button type="button" class="small" onClick={() => setEditing({ kind: 'migrate', sid: resource.sid })}>
                      Migrate
                    </button>
                    <button type="button" class="small" onClick={() => setEditing({ kind: 'relocate', sid: resource.sid })}>
                      Relocate
                    </button>
                    <button type="button" class="small danger" onClick={() => void remove(resource.sid)}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {editing?.kind === 'add' && <ResourceForm nodes={nodes} onClose={() => setEditing(undefined)} onDone={done} />}
      {editing?.kind === 'edit' && <ResourceForm resource={editing.resource} nodes={nodes} onClose={() => setEditing(undefined)} onDone={done} />}
      {(editing?.kind === 'migrate' || editing?.kind === 'relocate') && (
        <MoveForm sid={editing.sid} kind={editing.kind} nodes={nodes} onClose={() => setEditing(undefined)} onDone={done} />
      )}
    </div>
  );
}
