// Comparing pve-manager versions such as `9.0.0~16` or `8.4-1`.

interface VersionParts {
  major: number;
  minor: number;
  patch: number;
  rev?: number;
}

function parseVersion(version: string): VersionParts | undefined {
  const match = /^(\d+)\.(\d+)(?:\.|-)(\d+)(?:~(\d+))?/.exec(version);
  if (match === null) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    ...(match[4] !== undefined ? { rev: Number(match[4]) } : {}),
  };
}

/**
 * True when `version` is at least `minVersion`. A version without a `~rev`
 * suffix counts as the release, newer than any of its `~rev` pre-releases.
 */
export function hasMinVersion(version: string, minVersion: string): boolean {
  const v = parseVersion(version) ?? { major: 0, minor: 0, patch: 0 };
  const min = parseVersion(minVersion) ?? { major: 0, minor: 0, patch: 0 };
  if (v.major !== min.major) return v.major > min.major;
  if (v.minor !== min.minor) return v.minor > min.minor;
  if (v.patch !== min.patch) return v.patch > min.patch;
  return v.rev === undefined || v.rev >= (min.rev ?? 0);
}
