// Resources: the configured HA resources with their live state; add, edit,
// remove, migrate and relocate.

import { useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { ConfigTable, RowActions, TitleRow, useConfigList } from '../config-list';
import { nodeNames, type LiveStatus } from '../status';
import { Badge, CheckboxField, CommentField, ErrorBox, Field, FormDialog, Select, TextInput, flag, useAction, type Failure } from '../ui';

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

  const submit = async () => {
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
    <FormDialog
      title={editing ? `Edit ${resource.sid}` : 'Add resource'}
      submit={editing ? 'Save' : 'Add'}
      busy={action.busy}
      failure={action.failure}
      onSubmit={submit}
      onClose={onClose}
    >
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
      <CheckboxField name="failback" checked={failback} onValue={setFailback} label="Fail back to the preferred node" failure={action.failure} />
      <CommentField value={comment} onValue={setComment} failure={action.failure} />
    </FormDialog>
  );
}

function MoveForm({ sid, kind, nodes, onClose, onDone }: { sid: string; kind: 'migrate' | 'relocate'; nodes: string[]; onClose(): void; onDone(message: string): void }) {
  const [node, setNode] = useState('');
  const action = useAction();
  const [blocked, setBlocked] = useState<Failure | undefined>(undefined);
  const submit = async () => {
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
    <FormDialog
      title={`${kind === 'migrate' ? 'Migrate' : 'Relocate'} ${sid}`}
      submit={kind === 'migrate' ? 'Migrate' : 'Relocate'}
      busy={action.busy}
      failure={action.failure ?? blocked}
      onSubmit={submit}
      onClose={onClose}
    >
      <p class="muted">
        {kind === 'migrate' ? 'Moves the resource while it runs (online migration).' : 'Stops the resource, then starts it on the target node.'}
      </p>
      <Field label="Target node" name="node" failure={action.failure}>
        <Select name="node" value={node} options={nodes} onValue={setNode} blank="(choose)" />
      </Field>
    </FormDialog>
  );
}

type Editing = { kind: 'add' } | { kind: 'edit'; resource: Resource } | { kind: 'migrate' | 'relocate'; sid: string } | undefined;

export function ResourcesView({ live, admin, notify }: { live: LiveStatus; admin: boolean; notify(message: string): void }) {
  const view = live.view ?? {};
  // the settings change rarely: read again after each change made here, and when the live view adds or drops one
  const serviceIds = Object.keys(view).filter((id) => id.startsWith('service:')).sort().join(',');
  const list = useConfigList<Resource>('resources', notify, serviceIds);
  const [editing, setEditing] = useState<Editing>(undefined);
  const nodes = nodeNames(live.view);

  return (
    <div>
      <TitleRow title="Resources" admin={admin} add="Add resource" onAdd={() => setEditing({ kind: 'add' })} />
      <ErrorBox failure={list.failure} onClose={list.clearFailure} />
      <ConfigTable
        name="resources"
        columns={['Resource', 'State', 'Node', 'Requested', 'Restart / relocate', 'Comment']}
        admin={admin}
        items={list.items}
        empty="No HA resources yet."
        row={(resource) => {
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
                <RowActions
                  onEdit={() => setEditing({ kind: 'edit', resource })}
                  deleteLabel="Remove"
                  onDelete={() =>
                    void list.remove(`Remove ${resource.sid} from HA management? It keeps running, unmanaged.`, `resources/${enc(resource.sid)}`, `Resource ${resource.sid} removed`)
                  }
                >
                  <button type="button" class="small" onClick={() => setEditing({ kind: 'migrate', sid: resource.sid })}>
                    Migrate
                  </button>
                  <button type="button" class="small" onClick={() => setEditing({ kind: 'relocate', sid: resource.sid })}>
                    Relocate
                  </button>
                </RowActions>
              )}
            </tr>
          );
        }}
      />
      {editing?.kind === 'add' && <ResourceForm nodes={nodes} onClose={() => setEditing(undefined)} onDone={list.changed} />}
      {editing?.kind === 'edit' && <ResourceForm resource={editing.resource} nodes={nodes} onClose={() => setEditing(undefined)} onDone={list.changed} />}
      {(editing?.kind === 'migrate' || editing?.kind === 'relocate') && (
        <MoveForm sid={editing.sid} kind={editing.kind} nodes={nodes} onClose={() => setEditing(undefined)} onDone={list.changed} />
      )}
    </div>
  );
}
