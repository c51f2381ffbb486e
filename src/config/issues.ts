// Problems found while reading a config or status file, phrased for people:
// which file, which line, which field, what was wrong and what is accepted.

export interface ConfigIssue {
  file: string;
  /** 1-based line, when the problem can be pinned to one. */
  line?: number;
  /** The offending property or JSON path (dot separated). */
  field?: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += ` line ${issue.line}`;
  if (issue.field !== undefined) where += `, field '${issue.field}'`;
  return `${where}: ${issue.message}`;
}

/** Thrown by a parser used strictly; carries every issue it found. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * The parsers of line-based configs read like the reference: a bad line or
 * section is skipped and the rest used. Given an `issues` array they report
 * into it and carry on (what a daemon wants); without one they throw a
 * ConfigError listing everything found (what tests and tools want).
 */
export function settleIssues(found: readonly ConfigIssue[], sink: ConfigIssue[] | undefined): void {
  if (sink) sink.push(...found);
  else if (found.length > 0) throw new ConfigError(found);
}
