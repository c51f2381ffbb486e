// The API's routes below /api2/json/: every administrative operation at the
// method and path it declares (src/admin/operations.ts, the reference's
// /cluster/ha/... paths), the directory indexes the reference has above
// them, the event stream, and the session (access/ticket) calls.

import { OPERATIONS, type HttpMethod, type OperationId } from '../admin/operations.js';

export const API_PREFIX = '/api2/json/';
const HA_PREFIX = 'cluster/ha';

export type Route =
  | { kind: 'operation'; id: OperationId }
  | { kind: 'index'; entries: ReadonlyArray<Record<string, string>> }
  | { kind: 'events' }
  | { kind: 'ticket' };

interface RouteDef {
  method: HttpMethod;
  segments: readonly string[];
  route: Route;
}

function split(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

function haPath(path: string): string[] {
  return [...split(HA_PREFIX), ...split(path)];
}

const DEFS: readonly RouteDef[] = [
  ...(Object.keys(OPERATIONS) as OperationId[]).map((id) => ({
    method: OPERATIONS[id].method,
    segments: haPath(OPERATIONS[id].path),
    route: { kind: 'operation', id } as const,
  })),
  {
    method: 'GET',
    segments: haPath(''),
    route: { kind: 'index', entries: [{ id: 'status' }, { id: 'resources' }, { id: 'groups' }, { id: 'rules' }, { id: 'timing' }, { id: 'events' }] },
  },
  {
    method: 'GET',
    segments: haPath('status'),
    route: { kind: 'index', entries: [{ name: 'current' }, { name: 'manager_status' }, { name: 'disarm-ha' }, { name: 'arm-ha' }] },
  },
  { method: 'GET', segments: haPath('events'), route: { kind: 'events' } },
  ...(['GET', 'POST', 'DELETE'] as const).map((method) => ({ method, segments: split('access/ticket'), route: { kind: 'ticket' } as const })),
];

export type RouteMatch =
  | { found: true; route: Route; method: HttpMethod; pathParams: Record<string, string> }
  | { found: false; allow: HttpMethod[] };

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want.startsWith('{') && want.endsWith('}')) {
      if (segments[i] === '') return undefined;
      params[want.slice(1, -1)] = segments[i];
    } else if (want !== segments[i]) {
      return undefined;
    }
  }
  return params;
}

/**
 * The route of `method` and `path` (below /api2/json/, each segment already
 * percent-decoded). Not found: `allow` lists the methods the path has (none:
 * no such path).
 */
export function matchRoute(method: string, segments: readonly string[]): RouteMatch {
  const allow: HttpMethod[] = [];
  for (const def of DEFS) {
    const params = matchSegments(def.segments, segments);
    if (params === undefined) continue;
    if (def.method === method) return { found: true, route: def.route, method: def.method, pathParams: params };
    allow.push(def.method);
  }
  return { found: false, allow };
}
