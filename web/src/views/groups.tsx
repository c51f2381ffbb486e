// HA groups, deprecated: the manager turns them into node affinity rules once
// every node reads rules. Shown while they exist; changes are refused by the
// server after that migration, with its message.

import { useEffect, useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { Actions, Checkbox, Dialog, ErrorBox, Field, TextInput, failureOf, flag, useAction, type Failure } from '../ui';

interface Group {
  group: string;
  nodes: string;
  restricted?: number;
  nofailback?: number;
  comment?: string;
  digest: string;
}

function GroupForm({ group, onClose, onDone }: { group?: Group; onClose(): void; onDone(message: string): void }) {
  const editing = group !== undefined;
  const [id, setId] = useState(group?.group ?? '');
  const [nodes, setNodes] = useState(group?.nodes ?? '');
  const [restricted, setRestricted] = useState(group?.restricted === 1);
  const [nofailback, setNofailback] = useState(group?.nofailback === 1);
  const [comment, setComment] = useState(group?.comment ?? '');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      if (editing) {
        await ha('PUT', `groups/${enc(group.group)}`, {
          nodes: nodes === group.nodes ? undefined : nodes,
          restricted: restricted === (group.restricted === 1) ? undefined : flag(restricted),
          nofailback: nofailback === (group.nofailback === 1) ? undefined : flag(nofailback),
          comment: comment === (group.comment ?? '') ? undefined : comment,
          digest: group.digest,
        });
      } else {
        await ha('POST', 'groups', {
          group: id,
          nodes,
          restricted: restricted ? 1 : undefined,
          nofailback: nofailback ? 1 : undefined,
          comment: comment === '' ? undefined : comment,
        });
      }
    });
    if (ok) {
      onDone(editing ? `Group ${group.group} changed` : `Group ${id} added`);
      onClose();
    }
  };
  return (
    <Dialog title={editing ? `Edit group ${group.group}` : 'Add group'} onClose={onClose}>
      <form onSubmit={submit} class="form">
        <Field label="Group ID" name="group" failure={action.failure}>
          <TextInput name="group" value={id} onValue={setId} disabled={editing} />
        </Field>
        <Field label="Nodes" name="nodes" failure={action.failure} hint="node[:priority], comma separated">
          <TextInput name="nodes" value={nodes} onValue={setNodes} placeholder="node1:2,node2" />
        </Field>
        <Field label="" name="restricted" failure={action.failure}>
          <Checkbox name="restricted" checked={restricted} onValue={setRestricted} label="Restricted: only these nodes" />
        </Field>
        <Field label="" name="nofailback" failure={action.failure}>
          <Checkbox name="nofailback" checked={nofailback} onValue={setNofailback} label="No failback" />
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

export function GroupsView({ admin, notify }: { admin: boolean; notify(message: string): void }) {
  const [groups, setGroups] = useState<Group[] | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [editing, setEditing] = useState<{ group?: Group } | undefined>(undefined);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    ha<Group[]>('GET', 'groups').then(
      (list) => {
        setGroups(list);
        setFailure(undefined);
      },
      (err: unknown) => setFailure(failureOf(err)),
    );
  }, [generation]);

  const done = (message: string) => {
    notify(message);
    setGeneration((g) => g + 1);
  };
  const remove = async (id: string) => {
    if (!window.confirm(`Delete group ${id}?`)) return;
    try {
      await ha('DELETE', `groups/${enc(id)}`);
      done(`Group ${id} deleted`);
    } catch (err) {
      setFailure(failureOf(err));
    }
  };

  return (
    <div>
      <div class="title-row">
        <h1>Groups</h1>
        {admin && (
          <button type="button" onClick={() => setEditing({})}>
            Add group
          </button>
        )}
      </div>
      <p class="notice">HA groups are deprecated: node affinity rules replace them, and the manager migrates existing groups to rules.</p>
      <ErrorBox failure={failure} onClose={() => setFailure(undefined)} />
      <table class="grid" data-table="groups">
        <thead>
          <tr>
            <th>Group</th>
            <th>Nodes</th>
            <th>Restricted</th>
            <th>No failback</th>
            <th>Comment</th>
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {groups !== undefined && groups.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                No groups.
              </td>
            </tr>
          )}
          {(groups ?? []).map((group) => (
            <tr key={group.group} data-group={group.group}>
              <td>{group.group}</td>
              <td>{group.nodes}</td>
              <td>{group.restricted ? 'yes' : 'no'}</td>
              <td>{group.nofailback ? 'yes' : 'no'}</td>
              <td>{group.comment ?? ''}</td>
              {admin && (
                <td class="row-actions">
                  <button type="button" class="small" onClick={() => setEditing({ group })}>
                    Edit
                  </button>
                  <button type="button" class="small danger" onClick={() => void remove(group.group)}>
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {editing !== undefined && <GroupForm group={editing.group} onClose={() => setEditing(undefined)} onDone={done} />}
    </div>
  );
}
