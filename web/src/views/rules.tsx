// Rules: node affinity (where resources may or should run) and resource
// affinity (resources kept together or apart); add, edit, remove. A rule the
// manager ignores shows why.

import { useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { ConfigTable, RowActions, TitleRow, useConfigList } from '../config-list';
import { Badge, CheckboxField, CommentField, ErrorBox, Field, FormDialog, Select, TextInput, flag, useAction } from '../ui';

interface Rule {
  rule: string;
  type: 'node-affinity' | 'resource-affinity';
  resources: string;
  nodes?: string;
  strict?: number;
  affinity?: 'positive' | 'negative';
  disable?: number;
  comment?: string;
  digest: string;
  errors?: Record<string, string[]>;
}

const TYPES = ['node-affinity', 'resource-affinity'] as const;

function RuleForm({ rule, onClose, onDone }: { rule?: Rule; onClose(): void; onDone(message: string): void }) {
  const editing = rule !== undefined;
  const [type, setType] = useState<string>(rule?.type ?? 'node-affinity');
  const [id, setId] = useState(rule?.rule ?? '');
  const [resources, setResources] = useState(rule?.resources ?? '');
  const [nodes, setNodes] = useState(rule?.nodes ?? '');
  const [strict, setStrict] = useState(rule?.strict === 1);
  const [affinity, setAffinity] = useState<string>(rule?.affinity ?? 'positive');
  const [disable, setDisable] = useState(rule?.disable === 1);
  const [comment, setComment] = useState(rule?.comment ?? '');
  const action = useAction();
  const nodeAffinity = type === 'node-affinity';

  const submit = async () => {
    const changed = <T,>(value: T, old: T | undefined): T | undefined => (editing && value === old ? undefined : value);
    const params = {
      type,
      resources: changed(resources, rule?.resources),
      ...(nodeAffinity
        ? { nodes: changed(nodes, rule?.nodes), strict: editing ? changed(flag(strict), rule?.strict ?? 0) : strict ? 1 : undefined }
        : { affinity: changed(affinity, rule?.affinity) }),
      disable: editing ? changed(flag(disable), rule?.disable ?? 0) : disable ? 1 : undefined,
      comment: editing ? changed(comment, rule?.comment ?? '') : comment === '' ? undefined : comment,
    };
    const ok = await action.run(async () => {
      if (editing) await ha('PUT', `rules/${enc(rule.rule)}`, { ...params, digest: rule.digest });
      else await ha('POST', 'rules', { ...params, rule: id });
    });
    if (ok) {
      onDone(editing ? `Rule ${rule.rule} changed` : `Rule ${id} added`);
      onClose();
    }
  };

  return (
    <FormDialog
      title={editing ? `Edit rule ${rule.rule}` : 'Add rule'}
      submit={editing ? 'Save' : 'Add'}
      busy={action.busy}
      failure={action.failure}
      onSubmit={submit}
      onClose={onClose}
    >
      <Field label="Type" name="type" failure={action.failure}>
        {editing ? <TextInput name="type" value={type} onValue={setType} disabled /> : <Select name="type" value={type} options={TYPES} onValue={setType} />}
      </Field>
      <Field label="Rule ID" name="rule" failure={action.failure}>
        <TextInput name="rule" value={id} onValue={setId} disabled={editing} placeholder="keep-web-on-node1" />
      </Field>
      <Field label="Resources" name="resources" failure={action.failure} hint="comma separated, e.g. vm:100,exec:web">
        <TextInput name="resources" value={resources} onValue={setResources} />
      </Field>
      {nodeAffinity ? (
        <>
          <Field label="Nodes" name="nodes" failure={action.failure} hint="node[:priority], comma separated; higher priority first">
            <TextInput name="nodes" value={nodes} onValue={setNodes} placeholder="node1:2,node2" />
          </Field>
          <CheckboxField name="strict" checked={strict} onValue={setStrict} label="Strict: run only on these nodes" failure={action.failure} />
        </>
      ) : (
        <Field label="Affinity" name="affinity" failure={action.failure} hint="positive: keep together; negative: keep apart">
          <Select name="affinity" value={affinity} options={['positive', 'negative']} onValue={setAffinity} />
        </Field>
      )}
      <CheckboxField name="disable" checked={disable} onValue={setDisable} label="Disabled" failure={action.failure} />
      <CommentField value={comment} onValue={setComment} failure={action.failure} />
    </FormDialog>
  );
}

export function RulesView({ admin, notify }: { admin: boolean; notify(message: string): void }) {
  const list = useConfigList<Rule>('rules', notify);
  const [editing, setEditing] = useState<{ rule?: Rule } | undefined>(undefined);

  return (
    <div>
      <TitleRow title="Rules" admin={admin} add="Add rule" onAdd={() => setEditing({})} />
      <ErrorBox failure={list.failure} onClose={list.clearFailure} />
      <ConfigTable
        name="rules"
        columns={['Rule', 'Type', 'Resources', 'Nodes / affinity', 'State', 'Comment']}
        admin={admin}
        items={list.items}
        empty="No rules."
        row={(rule) => (
          <tr key={rule.rule} data-rule={rule.rule}>
            <td>{rule.rule}</td>
            <td>{rule.type}</td>
            <td>{rule.resources}</td>
            <td>{rule.type === 'node-affinity' ? `${rule.nodes ?? ''}${rule.strict ? ' (strict)' : ''}` : rule.affinity}</td>
            <td>
              {rule.disable ? <Badge state="disabled" /> : rule.errors ? <Badge state="ignored" /> : <Badge state="active" />}
              {rule.errors &&
                Object.entries(rule.errors).map(([key, messages]) => (
                  <div key={key} class="field-error">
                    {key}: {messages.join('; ')}
                  </div>
                ))}
            </td>
            <td>{rule.comment ?? ''}</td>
            {admin && (
              <RowActions
                onEdit={() => setEditing({ rule })}
                onDelete={() => void list.remove(`Delete rule ${rule.rule}?`, `rules/${enc(rule.rule)}`, `Rule ${rule.rule} deleted`)}
              />
            )}
          </tr>
        )}
      />
      {editing !== undefined && <RuleForm rule={editing.rule} onClose={() => setEditing(undefined)} onDone={list.changed} />}
    </div>
  );
}
