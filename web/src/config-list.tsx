// A view's list of HA configuration entries (resources, rules, groups): read
// from the API, and read again after each change made here; the view's title
// with its add button, the table (with a row saying so when it is empty),
// and each row's edit and delete buttons.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ha } from './api';
import { failureOf, type Failure } from './ui';

export interface ConfigList<T> {
  /** Undefined until first read. */
  items: T[] | undefined;
  failure: Failure | undefined;
  clearFailure(): void;
  /** After a change made here: tell the user, and read the list again. */
  changed(message: string): void;
  /** Deletes the entry at `path` once the user confirms `question`. */
  remove(question: string, path: string, message: string): Promise<void>;
}

/** The list at `path`; also read again whenever `watch` changes. */
export function useConfigList<T>(path: string, notify: (message: string) => void, watch = ''): ConfigList<T> {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    ha<T[]>('GET', path).then(
      (list) => {
        setItems(list);
        setFailure(undefined);
      },
      (err: unknown) => setFailure(failureOf(err)),
    );
  }, [generation, watch]);

  const changed = (message: string) => {
    notify(message);
    setGeneration((g) => g + 1);
  };
  return {
    items,
    failure,
    clearFailure: () => setFailure(undefined),
    changed,
    async remove(question, entryPath, message) {
      if (!window.confirm(question)) return;
      try {
        await ha('DELETE', entryPath);
        changed(message);
      } catch (err) {
        setFailure(failureOf(err));
      }
    },
  };
}

/** The view's heading, and for an admin the button that opens the add form. */
export function TitleRow(props: { title: string; admin: boolean; add: string; onAdd(): void }) {
  return (
    <div class="title-row">
      <h1>{props.title}</h1>
      {props.admin && (
        <button type="button" onClick={props.onAdd}>
          {props.add}
        </button>
      )}
    </div>
  );
}

/** The entries as a table; an admin gets a last column for each row's buttons. */
export function ConfigTable<T>(props: { name: string; columns: readonly string[]; admin: boolean; items: T[] | undefined; empty: string; row(item: T): ComponentChildren }) {
  return (
    <table class="grid" data-table={props.name}>
      <thead>
        <tr>
          {props.columns.map((column) => (
            <th key={column}>{column}</th>
          ))}
          {props.admin && <th />}
        </tr>
      </thead>
      <tbody>
        {props.items !== undefined && props.items.length === 0 && (
          <tr>
            <td colSpan={props.columns.length + 1} class="muted">
              {props.empty}
            </td>
          </tr>
        )}
        {(props.items ?? []).map(props.row)}
      </tbody>
    </table>
  );
}

/** A row's buttons: edit, any others, then delete. */
export function RowActions(props: { onEdit(): void; onDelete(): void; deleteLabel?: string; children?: ComponentChildren }) {
  return (
    <td class="row-actions">
      <button type="button" class="small" onClick={props.onEdit}>
        Edit
      </button>
      {props.children}
      <button type="button" class="small danger" onClick={props.onDelete}>
        {props.deleteLabel ?? 'Delete'}
      </button>
    </td>
  );
}
