// The formats ha-api reads: the token file and the daemons' metrics files.
// Each round-trips, and every problem names the file, the line and the field.

import { describe, expect, it } from 'vitest';

import { parseDaemonMetrics, writeDaemonMetrics, type DaemonMetrics } from '../../src/config/daemon-metrics.js';
import { ConfigError } from '../../src/config/issues.js';
import { parseTokenFile, writeTokenFile, type TokenEntry } from '../../src/config/token-file.js';

const HASH = 'ab'.repeat(32);

describe('token file', () => {
  it('round-trips', () => {
    const entries: TokenEntry[] = [
      { id: 'root@pam!ops', role: 'admin', salt: 'rFOJgjSG0OrjvhdWrxO5XQ', hash: HASH },
      { id: 'grafana@pve!metrics-1', role: 'audit', salt: 'By53-K4s-j-RYmHIF8Dl_A', hash: HASH },
    ];
    const text = writeTokenFile(entries);
    expect(parseTokenFile(text, 'tokens')).toEqual(entries);
    expect(writeTokenFile(parseTokenFile(text, 'tokens'))).toBe(text);
  });

  it('skips comments and blank lines', () => {
    expect(parseTokenFile(`# a comment\n\n  root@pam!ops admin sha256:rFOJgjSG0OrjvhdWrxO5XQ:${HASH}  \n`, 'f')).toHaveLength(1);
  });

  it.each([
    ['root@pam!ops admin', "f line 1: expected '<user@realm!tokenid> <role> sha256:<salt>:<hash>', got 2 fields"],
    [`root@pam admin sha256:rFOJgjSG0OrjvhdWrxO5XQ:${HASH}`, "f line 1, field 'id': 'root@pam' is not a token id (expected USER@REALM!TOKENID, e.g. root@pam!monitoring)"],
    [`root@pam!ops root sha256:rFOJgjSG0OrjvhdWrxO5XQ:${HASH}`, "f line 1, field 'role': unknown role 'root' (expected audit or admin)"],
    ['root@pam!ops admin 3f1c9a2e-secret-pasted-here', "f line 1, field 'secret': expected sha256:<salt>:<hex hash> (a hashed secret, as written by ha-api token add)"],
    [`root@pam!ops admin sha256:rFOJgjSG0OrjvhdWrxO5XQ:${HASH}\nroot@pam!ops audit sha256:rFOJgjSG0OrjvhdWrxO5XQ:${HASH}`, "f line 2, field 'id': token 'root@pam!ops' is listed twice"],
  ])('refuses %j', (text, message) => {
    expect(() => parseTokenFile(text, 'f')).toThrow(ConfigError);
    expect(() => parseTokenFile(text, 'f')).toThrow(message);
  });
});

describe('daemon metrics file', () => {
  const crm: DaemonMetrics = {
    daemon: 'crm',
    node: 'node1',
    pid: 12,
    started: 1000,
    time: 2000,
    locks: { acquired: 1, renewed: 2, lost: 0 },
    crm: { master: true, fence_events: 1, round_seconds: { le: [0.1, 1], counts: [1, 2], count: 2, sum: 0.3 } },
  };
  const lrm: DaemonMetrics = {
    daemon: 'lrm',
    node: 'node2',
    pid: 13,
    started: 1000,
    time: 2000,
    locks: { acquired: 1, renewed: 0, lost: 1 },
    lrm: { queued: 3, running: 1, wait_seconds: { le: [1], counts: [4], count: 5, sum: 9 } },
  };

  it.each([crm, lrm])('round-trips the $daemon figures', (metrics) => {
    expect(parseDaemonMetrics(writeDaemonMetrics(metrics), 'm')).toEqual(metrics);
  });

  it('names each broken field with its line', () => {
    const text = writeDaemonMetrics(crm).replace('"renewed":2', '"renewed":"2"').replace('"counts":[1,2]', '"counts":[1]');
    expect(() => parseDaemonMetrics(text, 'nodes/node1/ha-metrics-crm')).toThrow(
      "nodes/node1/ha-metrics-crm line 1, field 'locks.renewed': expected a number, got '2'\n" +
        "nodes/node1/ha-metrics-crm line 1, field 'crm.round_seconds.counts': expected one count per bound (2), got 1",
    );
  });

  it('refuses what is not an object', () => {
    expect(() => parseDaemonMetrics('[]', 'm')).toThrow("m line 1: expected an object, got an array");
  });
});
