// manager_status: the master's state (node states, service states, node
// requests, disarm, and under the safe policy the nodes it must not fence
// yet), JSON in the cluster store, read by every node.

import {
  NODE_STATES,
  SERVICE_STATES,
  type DisarmStatus,
  type ManagerStatus,
  type NodeRequest,
  type NodeState,
  type ServiceCommand,
  type ServiceStatusEntry,
} from '../core/types.js';
import { JsonIssues, describeJson, parseJsonDocument, type JsonObject, type JsonPath, type JsonValue } from './json-source.js';

function readStringList(check: JsonIssues, path: JsonPath, value: JsonValue): string[] | undefined {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    check.add(path, `expected a list of node names, got ${describeJson(value)}`);
    return undefined;
  }
  return value as string[];
}

function readCommand(check: JsonIssues, path: JsonPath, value: JsonValue): ServiceCommand | undefined {
  if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'string') {
    const [cmd, arg] = value;
    if (cmd === 'migrate' || cmd === 'relocate') return [cmd, arg];
    if (cmd === 'stop') return ['stop', arg];
  }
  if (Array.isArray(value) && value.length === 2 && value[0] === 'stop' && typeof value[1] === 'number') {
    return ['stop', String(value[1])];
  }
  check.add(path, `value ${JSON.stringify(value)} is not a queued command (expected ["migrate" | "relocate", node] or ["stop", timeout])`);
  return undefined;
}

function readServiceStatus(check: JsonIssues, path: JsonPath, obj: JsonObject): ServiceStatusEntry | undefined {
  const state = check.oneOf([...path, 'state'], obj.state, SERVICE_STATES);
  const node = check.string([...path, 'node'], obj.node);
  if (state === undefined || node === undefined) return undefined;
  const sd: ServiceStatusEntry = { state, node };
  for (const key of ['uid', 'target', 'maintenance_node'] as const) {
    if (obj[key] === undefined || obj[key] === null) continue;
    const value = check.string([...path, key], obj[key]);
    if (value !== undefined) sd[key] = value;
  }
  if (obj.timeout !== undefined && obj.timeout !== null) {
    if (typeof obj.timeout === 'string' || typeof obj.timeout === 'number') sd.timeout = String(obj.timeout);
    else check.add([...path, 'timeout'], `expected a number of seconds, got ${describeJson(obj.timeout)}`);
  }
  if (obj.running !== undefined && obj.running !== null) {
    if (obj.running === 1 || obj.running === true) sd.running = 1;
    else if (obj.running !== 0 && obj.running !== false) check.add([...path, 'running'], `value ${describeJson(obj.running)} is not 1`);
  }
  if (obj.failed_nodes !== undefined && obj.failed_nodes !== null) {
    const nodes = readStringList(check, [...path, 'failed_nodes'], obj.failed_nodes);
    if (nodes !== undefined) sd.failed_nodes = nodes;
  }
  if (obj.cmd !== undefined && obj.cmd !== null) {
    const cmd = readCommand(check, [...path, 'cmd'], obj.cmd);
    if (cmd !== undefined) sd.cmd = cmd;
  }
  return sd;
}

function readNodeRequest(check: JsonIssues, path: JsonPath, obj: JsonObject): NodeRequest {
  const request: NodeRequest = {};
  if (obj.maintenance !== undefined && obj.maintenance !== null) {
    if (obj.maintenance === 1 || obj.maintenance === true) request.maintenance = 1;
    else check.add([...path, 'maintenance'], `value ${describeJson(obj.maintenance)} is not 1`);
  }
  return request;
}

function readDisarm(check: JsonIssues, obj: JsonObject): DisarmStatus | undefined {
  const mode = check.oneOf(['disarm', 'mode'], obj.mode, ['freeze', 'ignore'] as const);
  const state = check.oneOf(['disarm', 'state'], obj.state, ['disarming', 'disarmed'] as const);
  return mode !== undefined && state !== undefined ? { mode, state } : undefined;
}

/**
 * Parses manager_status; empty text reads as `{}`. Keys the manager does not
 * use (older versions wrote e.g. `relocate_tried_nodes`) are left out.
 * Throws a ConfigError naming file, line and field of every invalid value.
 */
export function parseManagerStatus(text: string, file = 'manager_status'): ManagerStatus {
  if (text === '') return {};
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const root = check.object([], doc.value);
  const ms: ManagerStatus = {};
  if (root === undefined) {
    check.settle();
    return ms;
  }

  if (root.master_node !== undefined && root.master_node !== null) {
    const master = check.string(['master_node'], root.master_node);
    if (master !== undefined) ms.master_node = master;
  }
  if (root.node_status !== undefined && root.node_status !== null) {
    const obj = check.object(['node_status'], root.node_status);
    if (obj !== undefined) {
      const nodeStatus: Record<string, NodeState> = {};
      for (const [node, value] of Object.entries(obj)) {
        const state = check.oneOf(['node_status', node], value, NODE_STATES);
        if (state !== undefined) nodeStatus[node] = state;
      }
      ms.node_status = nodeStatus;
    }
  }
  if (root.service_status !== undefined && root.service_status !== null) {
    const obj = check.object(['service_status'], root.service_status);
    if (obj !== undefined) {
      const ss: Record<string, ServiceStatusEntry> = {};
      for (const sid in obj) {
        const entry = check.object(['service_status', sid], obj[sid]);
        const sd = entry && readServiceStatus(check, ['service_status', sid], entry);
        if (sd) ss[sid] = sd;
      }
      ms.service_status = ss;
    }
  }
  if (root.node_request !== undefined && root.node_request !== null) {
    const obj = check.object(['node_request'], root.node_request);
    if (obj !== undefined) {
      const requests: Record<string, NodeRequest> = {};
      for (const [node, value] of Object.entries(obj)) {
        const entry = check.object(['node_request', node], value);
        if (entry) requests[node] = readNodeRequest(check, ['node_request', node], entry);
      }
      ms.node_request = requests;
    }
  }
  if (root.disarm !== undefined && root.disarm !== null) {
    const obj = check.object(['disarm'], root.disarm);
    const disarm = obj && readDisarm(check, obj);
    if (disarm) ms.disarm = disarm;
  }
  if (root.unprotected_nodes !== undefined && root.unprotected_nodes !== null) {
    const nodes = readStringList(check, ['unprotected_nodes'], root.unprotected_nodes);
    if (nodes !== undefined) ms.unprotected_nodes = nodes;
  }
  if (root.timestamp !== undefined && root.timestamp !== null) {
    const timestamp = check.number(['timestamp'], root.timestamp);
    if (timestamp !== undefined) ms.timestamp = timestamp;
  }
  check.settle();
  return ms;
}

/** Compact JSON, as the reference writes it. */
export function writeManagerStatus(ms: Readonly<ManagerStatus>): string {
  return JSON.stringify(ms);
}
