// Building blocks shared by the views: form fields that show the server's
// error for their parameter, an error box for the rest of a failure, state
// badges, a modal dialog and a dialog holding a form, and a hook that runs
// one request at a time.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

import { ApiError } from './api';

export interface Failure {
  message: string;
  errors: Record<string, string>;
}

export function failureOf(err: unknown): Failure {
  if (err instanceof ApiError) return { message: err.message, errors: err.errors };
  return { message: err instanceof Error ? err.message : String(err), errors: {} };
}

/** Runs a request, keeping its failure (if any) for the form to show. */
export function useAction(): {
  busy: boolean;
  failure: Failure | undefined;
  run(action: () => Promise<void>): Promise<boolean>;
  clear(): void;
} {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  return {
    busy,
    failure,
    clear: () => setFailure(undefined),
    async run(action) {
      setBusy(true);
      setFailure(undefined);
      try {
        await action();
        return true;
      } catch (err) {
        setFailure(failureOf(err));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

export function ErrorBox({ failure, onClose }: { failure: Failure | undefined; onClose?: () => void }) {
  if (failure === undefined) return null;
  const params = Object.keys(failure.errors).sort();
  return (
    <div class="error-box" role="alert">
      {onClose && (
        <button type="button" class="close" aria-label="Dismiss" onClick={onClose}>
          ×
        </button>
      )}
      <strong>{failure.message}</strong>
      {params.length > 0 && (
        <ul>
          {params.map((param) => (
            <li key={param}>
              <code>{param}</code>: {failure.errors[param]}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Field(props: { label: string; name: string; failure?: Failure | undefined; hint?: string; children: ComponentChildren }) {
  const error = props.failure?.errors[props.name];
  return (
    <label class={`field${error ? ' invalid' : ''}`} data-field={props.name}>
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && !error && <span class="hint">{props.hint}</span>}
      {error && <span class="field-error">{error}</span>}
    </label>
  );
}

interface InputProps {
  name: string;
  value: string;
  onValue(value: string): void;
  placeholder?: string;
  disabled?: boolean;
  autoFocus?: boolean;
  autoComplete?: string;
  inputMode?: 'numeric' | 'text';
}

export function TextInput({ value, onValue, ...rest }: InputProps) {
  return <input type="text" {...rest} value={value} onInput={(e) => onValue((e.target as HTMLInputElement).value)} />;
}

export function Select(props: { name: string; value: string; options: readonly string[]; onValue(value: string): void; blank?: string }) {
  return (
    <select name={props.name} value={props.value} onChange={(e) => props.onValue((e.target as HTMLSelectElement).value)}>
      {props.blank !== undefined && <option value="">{props.blank}</option>}
      {props.options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );
}

export function Checkbox(props: { name: string; checked: boolean; onValue(value: boolean): void; label: string }) {
  return (
    <label class="checkbox">
      <input type="checkbox" name={props.name} checked={props.checked} onChange={(e) => props.onValue((e.target as HTMLInputElement).checked)} />
      {props.label}
    </label>
  );
}

/** A boolean setting as a checkbox, with the server's error for it. */
export function CheckboxField(props: { name: string; label: string; checked: boolean; onValue(value: boolean): void; failure: Failure | undefined }) {
  return (
    <Field label="" name={props.name} failure={props.failure}>
      <Checkbox name={props.name} checked={props.checked} onValue={props.onValue} label={props.label} />
    </Field>
  );
}

/** The `comment` every kind of HA entry has. */
export function CommentField(props: { value: string; onValue(value: string): void; failure: Failure | undefined }) {
  return (
    <Field label="Comment" name="comment" failure={props.failure}>
      <TextInput name="comment" value={props.value} onValue={props.onValue} />
    </Field>
  );
}

const STATE_CLASS: Readonly<Record<string, string>> = {
  started: 'ok',
  online: 'ok',
  active: 'ok',
  armed: 'ok',
  OK: 'ok',
  stopped: 'idle',
  disabled: 'idle',
  idle: 'idle',
  standby: 'idle',
  ignored: 'idle',
  ignore: 'idle',
  'wait_for_agent_lock': 'idle',
  starting: 'busy',
  stopping: 'busy',
  migrate: 'busy',
  relocate: 'busy',
  queued: 'busy',
  deleting: 'busy',
  request_start: 'busy',
  request_stop: 'busy',
  maintenance: 'warn',
  'maintenance mode': 'warn',
  freeze: 'warn',
  disarming: 'warn',
  disarmed: 'warn',
  unknown: 'warn',
  recovery: 'bad',
  fence: 'bad',
  error: 'bad',
  gone: 'bad',
  offline: 'bad',
  unsafe: 'bad',
};

export function Badge({ state }: { state: string | number | boolean | undefined }) {
  const text = state === undefined ? '—' : String(state);
  const kind = STATE_CLASS[text] ?? (/dead|drift|unable/.test(text) ? 'bad' : 'plain');
  return <span class={`badge ${kind}`}>{text}</span>;
}

export function Dialog(props: { title: string; onClose(): void; children: ComponentChildren }) {
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title}>
        <header>
          <h2>{props.title}</h2>
          <button type="button" class="close" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** Form buttons: the submit button says what it does, and is disabled while the request runs. */
export function Actions(props: { busy: boolean; submit: string; onCancel(): void }) {
  return (
    <div class="actions">
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" disabled={props.busy}>
        {props.busy ? 'Working…' : props.submit}
      </button>
    </div>
  );
}

/**
 * A form in a dialog: its fields, then the failure (what no field shows of
 * it) and the buttons. `onSubmit` runs instead of the browser's submit.
 */
export function FormDialog(props: {
  title: string;
  submit: string;
  busy: boolean;
  failure: Failure | undefined;
  onSubmit(): Promise<void>;
  onClose(): void;
  children: ComponentChildren;
}) {
  const submit = (e: Event) => {
    e.preventDefault();
    void props.onSubmit();
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form onSubmit={submit} class="form">
        {props.children}
        <ErrorBox failure={props.failure} />
        <Actions busy={props.busy} submit={props.submit} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** A boolean setting as the API reads it. */
export const flag = (value: boolean): number => (value ? 1 : 0);
