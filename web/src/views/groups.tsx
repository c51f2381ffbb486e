// HA groups, deprecated: the manager turns them into node affinity rules once
// every node reads rules. Shown while they exist; changes are refused by the
// server after that migration, with its message.

import { useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { ConfigTable, RowActions, TitleRow, useConfigList } from '../config-list';
import { CheckboxField, CommentField, ErrorBox, Field, FormDialog, TextInput, flag, useAction } from '../ui';

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
  const submit = async () => {
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
    <FormDialog
      title={editing ? `Edit group ${group.group}` : 'Add group'}
      submit={editing ? 'Save' : 'Add'}
      busy={action.busy}
      failure={action.failure}
      onSubmit={submit}
      onClose={onClose}
    >
      <Field label="Group ID" name="group" failure={action.failure}>
        <TextInput name="group" value={id} onValue={setId} disabled={editing} />
      </Field>
      <Field label="Nodes" name="nodes" failure={action.failure} hint="node[:priority], comma separated">
        <TextInput name="nodes" value={nodes} onValue={setNodes} placeholder="node1:2,node2" />
      </Field>
      <CheckboxField name="restricted" checked={restricted} onValue={setRestricted} label="Restricted: only these nodes" failure={action.failure} />
      <CheckboxField name="nofailback" checked={nofailback} onValue={setNofailback} label="No failback" failure={action.failure} />
      <CommentField value={comment} onValue={setComment} failure={action.failure} />
    </FormDialog>
  );
}

export function GroupsView({ admin, notify }: { admin: boolean; notify(message: string): void }) {
  const list = useConfigList<Group>('groups', notify);
  const [editing, setEditing] = useState<{ group?: Group } | undefined>(undefined);

  return (
    <div>
      <TitleRow title="Groups" admin={admin} add="Add group" onAdd={() => setEditing({})} />
      <p class="notice">HA groups are deprecated: node affinity rules replace them, and the manager migrates existing groups to rules.</p>
      <ErrorBox failure={list.failure} onClose={list.clearFailure} />
      <ConfigTable
        name="groups"
        columns={['Group', 'Nodes', 'Restricted', 'No failback', 'Comment']}
        admin={admin}
        items={list.items}
        empty="No groups."
        row={(group) => (
          <tr key={group.group} data-group={group.group}>
            <td>{group.group}</td>
            <td>{group.nodes}</td>
            <td>{group.restricted ? 'yes' : 'no'}</td>
            <td>{group.nofailback ? 'yes' : 'no'}</td>
            <td>{group.comment ?? ''}</td>
            {admin && (
              <RowActions
                onEdit={() => setEditing({ group })}
                onDelete={() => void list.remove(`Delete group ${group.group}?`, `groups/${enc(group.group)}`, `Group ${group.group} deleted`)}
              />
            )}
          </tr>
        )}
      />
      {editing !== undefined && <GroupForm group={editing.group} onClose={() => setEditing(undefined)} onDone={list.changed} />}
    </div>
  );
}
