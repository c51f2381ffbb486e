import type { Sid } from './types.js';

/** Splits a service id `type:name` (e.g. `vm:100`) into its parts. */
export function splitSid(sid: Sid): { type: string; name: string } {
  const match = /^(\S+):(\S+)$/.exec(sid);
  if (match === null) throw new Error(`unable to parse service id '${sid}'`);
  return { type: match[1], name: match[2] };
}
