// ha-lab's exit statuses: the checker's verdict, and the ways a run can
// fail to reach one (so a campaign can tell the daemons' failures from the lab's).

export const EXIT = {
  pass: 0,
  /** The checker found a double run, a service not running at the end, or lost config. */
  failed: 1,
  usage: 2,
  /** The lab itself could not run the campaign (a node would not boot, etcd would not start, ...). */
  labError: 3,
  interrupted: 130,
} as const;
