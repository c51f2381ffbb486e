// lrm_status: one node's LRM state, mode and command results, JSON in the
// cluster store, written by that node's LRM and read by the master.

import { LRM_MODES, LRM_STATES, type LrmResult, type LrmStatus } from '../core/types.js';
import { JsonIssues, parseJsonDocument } from './json-source.js';

/**
 * Parses lrm_status; empty text reads as `{}`. Unknown keys are left out.
 * Throws a ConfigError naming file, line and field of every invalid value.
 */
export function parseLrmStatus(text: string, file = 'lrm_status'): LrmStatus {
  if (text === '') return {};
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const root = check.object([], doc.value);
  const status: LrmStatus = {};
  if (root === undefined) {
    check.settle();
    return status;
  }

  if (root.state !== undefined && root.state !== null) {
    const state = check.oneOf(['state'], root.state, LRM_STATES);
    if (state !== undefined) status.state = state;
  }
  if (root.mode !== undefined && root.mode !== null) {
    const mode = check.oneOf(['mode'], root.mode, LRM_MODES);
    if (mode !== undefined) status.mode = mode;
  }
  if (root.results !== undefined && root.results !== null) {
    const obj = check.object(['results'], root.results);
    if (obj !== undefined) {
      const results: Record<string, LrmResult> = {};
      for (const [uid, value] of Object.entries(obj)) {
        const entry = check.object(['results', uid], value);
        if (entry === undefined) continue;
        const sid = check.string(['results', uid, 'sid'], entry.sid);
        const state = check.string(['results', uid, 'state'], entry.state);
        const exitCode = check.number(['results', uid, 'exit_code'], entry.exit_code);
        if (sid !== undefined && state !== undefined && exitCode !== undefined) {
          results[uid] = { sid, state, exit_code: exitCode };
        }
      }
      status.results = results;
    }
  }
  if (root.timestamp !== undefined && root.timestamp !== null) {
    const timestamp = check.number(['timestamp'], root.timestamp);
    if (timestamp !== undefined) status.timestamp = timestamp;
  }
  check.settle();
  return status;
}

/** Compact JSON, as the reference writes it. */
export function writeLrmStatus(status: Readonly<LrmStatus>): string {
  return JSON.stringify(status);
}
