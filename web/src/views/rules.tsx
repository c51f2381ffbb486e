// Rules: node affinity (where resources may or should run) and resource
// affinity (resources kept together or apart); add, edit, remove. A rule the
// manager ignores shows why.

import { useEffect, useState } from 'preact/hooks';

import { enc, ha } from '../api';
import { Actions, Badge, Checkbox, Dialog, ErrorBox, Field, Select, TextInput, failureOf, flag, useAction, type Failure } from '../ui';

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

  const submit = async (e: Event) => {
    e.preventDefault();
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
    <Dialog title={editing ? `Edit rule ${rule.rule}` : 'Add rule'} onClose={onClose}>
      <form onSubmit={submit} class="form">
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
            <Field label="" name="strict" failure={action.failure}>
              <Checkbox name="strict" checked={strict} onValue={setStrict} label="Strict: run only on these nodes" />
            </Field>
          </>
        ) : (
          <Field label="Affinity" name="affinity" failure={action.failure} hint="positive: keep together; negative: keep apart">
            <Select name="affinity" value={affinity} options={['positive', 'negative']} onValue={setAffinity} />
          </Field>
        )}
        <Field label="" name="disable" failure={action.failure}>
          <Checkbox name="disable" checked={disable} onValue={setDisable} label="Disabled" />
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

export function RulesView({ admin, notify }: { admin: boolean; notify(message: string): void }) {
  const [rules, setRules] = useState<Rule[] | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [editing, setEditing] = useState<{ rule?: Rule } | undefined>(undefined);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    ha<Rule[]>('GET', 'rules').then(
      (list) => {
        setRules(list);
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
    if (!window.confirm(`Delete rule ${id}?`)) return;
    try {
      await ha('DELETE', `rules/${enc(id)}`);
      done(`Rule ${id} deleted`);
    } catch (err) {
      setFailure(failureOf(err));
    }
  };

  return (
    <div>
      <div class="title-row">
        <h1>Rules</h1>
        {admin && (
          <button type="button" onClick={() => setEditing({})}>
            Add rule
          </button>
        )}
      </div>
      <ErrorBox failure={failure} onClose={() => setFailure(undefined)} />
      <table class="grid" data-table="rules">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Type</th>
            <th>Resources</th>
            <th>Nodes / affinity</th>
            <th>State</th>
            <th>Comment</th>
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {rules !== undefined && rules.length === 0 && (
            <tr>
              <td colSpan={7} class="muted">
                No rules.
              </td>
            </tr>
          )}
          {(rules ?? []).map((rule) => (
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
                <td class="row-actions">
                  <button type="button" class="small" onClick={() => setEditing({ rule })}>
                    Edit
                  </button>
                  <button type="button" class="small danger" onClick={() => void remove(rule.rule)}>
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {editing !== undefined && <RuleForm rule={editing.rule} onClose={() => setEditing(undefined)} onDone={done} />}
    </div>
  );
}
