// The rules every kind of HA entry (resource, rule, group) follows when a
// change's settings are applied to it: which settings the `delete`
// parameter may reset, and a comment that is blank meaning none.

import { invalidParam } from './errors.js';

/**
 * The settings `delete` names (comma separated): each one `deletable`, none
 * `required`, none also being set by the same change. Throws an `invalid`
 * AdminError for `delete` naming the first that is not.
 */
export function settingsToDelete<K extends string>(
  params: { readonly delete?: string } & Readonly<Record<string, unknown>>,
  deletable: readonly K[],
  required: readonly string[] = [],
): K[] {
  if (params.delete === undefined) return [];
  const keys = params.delete.split(',');
  for (const key of keys) {
    if (required.includes(key)) throw invalidParam('delete', `unable to delete required option '${key}'`);
    if (!(deletable as readonly string[]).includes(key)) throw invalidParam('delete', `no such option '${key}' (deletable: ${deletable.join(', ')})`);
    if (params[key] !== undefined) throw invalidParam('delete', `cannot set and delete property '${key}' at the same time!`);
  }
  return keys as K[];
}

/** Sets the entry's comment; a blank one (comments arrive trimmed) removes it. */
export function applyComment(entry: { comment?: string }, comment: string | undefined): void {
  if (comment === undefined) return;
  if (comment === '') delete entry.comment;
  else entry.comment = comment;
}
