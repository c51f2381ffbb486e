// How `ha-manager timing set` and `ha-manager check-timings` print the
// timing operations' results (src/admin/timing.ts): the file as written, and
// the profile's numbers, the fence window and the safety inequality with its
// slack, the store outage the cluster rides out and the failover a node
// reset implies. check-timings then checks this node's watchdog-mux, when
// it is reachable, against the same inequality on the mux's real settings
// (exit status 1 when unsafe): that part is about the local node, so it
// lives here and not in the service layer.

import type { TimingReport } from '../../admin/timing.js';
import { errorText } from '../../core/errors.js';
import { writeTimingConfig } from '../../config/timing-config.js';
import { formatDuration } from '../../config/timing-profiles.js';
import { PATHS } from '../../env/node/layout.js';
import { queryMuxSettings } from '../../env/node/watchdog.js';
import { checkArming, timingProfile, type MuxSettings } from '../../env/timing.js';
import { DEFAULT_WATCHDOG_MUX_SOCKET } from '../../native/mux-socket.js';
import type { CliContext } from './context.js';

/** What the durations of share/timing-profiles.cfg are called in the text. */
const LABELS: Readonly<Record<string, string>> = {
  'lock-lifetime': 'lock lifetime',
  'client-timeout': 'mux client timeout',
  'mux-tick': 'mux tick',
  'device-timeout': 'device timeout',
  margin: 'margin',
  'lrm-round': 'LRM round',
  'crm-round': 'CRM round',
  'lock-retry': 'lock retry',
  'store-timeout': 'store timeout',
  'heartbeat-timeout': 'heartbeat timeout',
  'fence-delay': 'fence delay',
};

/** The profile's numbers and what they imply, one line each. */
function describeReport(report: TimingReport): string[] {
  const lines = Object.entries(report.durations).map(([key, ms]) => `  ${(LABELS[key] ?? key).padEnd(20)}${formatDuration(ms)}`);
  const half = formatDuration(report.durations['lock-lifetime'] / 2);
  lines.push(
    report.inequality,
    `store outage ridden out: up to ${formatDuration(report['outage-without-reset'])} without a reset, ` +
      `${formatDuration(report['outage-without-fence'])} without a fence (half the lock lifetime: ${half})`,
    `worst failover after a node reset: ${formatDuration(report.failover)}, ` +
      `${formatDuration(report['master-failover'])} when it was the master's node (plus the service's start time)`,
  );
  return lines;
}

/** `timing set`: the file as written, and what to do next. */
export function printTimingSet(cli: CliContext, report: TimingReport): void {
  cli.stdout(
    writeTimingConfig({
      profile: report.profile,
      timeScale: report['time-scale'],
      ...(report.epoch !== undefined ? { epochMs: report.epoch } : {}),
    }),
  );
  cli.stdout(
    `written to ${PATHS.timing}: daemons read it when they start, so restart every ha-crm, ha-lrm and ha-api, ` +
      `and start each node's watchdog-mux with --profile ${report.profile}\n`,
  );
}

/**
 * `check-timings`: the report, then this node's watchdog-mux (at `socket`,
 * by default the usual one) measured against it. Returns why the daemons here would refuse to arm, if they would.
 */
export function printTimingCheck(cli: CliContext, report: TimingReport, socket: string | undefined): string | undefined {
  const watchdogSocket = socket ?? DEFAULT_WATCHDOG_MUX_SOCKET;
  const source = report.source === 'parameter' ? '--profile' : report.source;
  const out: string[] = [`timing profile '${report.profile}' (from ${source})`, ...describeReport(report)];
  if (report['time-scale'] !== 1) {
    out.push(
      `time-scale ${report['time-scale']} (epoch ${report.epoch}): the daemons must run with --no-watchdog, or with a simulated ` +
        'watchdog device (watchdog-mux --fake-device), whose fence window is checked in cluster time',
    );
  }

  let unsafe: string | undefined;
  let mux: MuxSettings | undefined;
  try {
    mux = queryMuxSettings(watchdogSocket);
  } catch (err) {
    out.push(`watchdog-mux at ${watchdogSocket}: not checked - ${errorText(err).split('\n')[0]}`);
  }
  if (mux !== undefined) {
    const check = checkArming(timingProfile(report.profile), mux, report['time-scale']);
    if (!check.safe) unsafe = check.text;
    out.push(`watchdog-mux at ${watchdogSocket}: ${check.text}`);
  }
  cli.stdout(`${out.join('\n')}\n`);
  return unsafe;
}
