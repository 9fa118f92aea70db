/**
 * Kubelet-equivalent validation of a node log query (kubelet_server_journal.go
 * newNodeLogQuery + validate()), run before anything is sent so invalid input
 * never reaches the cluster. Messages say what is wrong and how to fix it; the
 * kubelet's own wording follows in parentheses where it exists.
 */
import { checkFilePath, isFileQuery } from './file-path.js';
import { checkGoRegexp, localPatternProblem } from './go-regexp.js';
import { compareInstants, parseRfc3339, type Rfc3339Instant } from './rfc3339.js';
import type { NodeLogQueryInput, NodeOs, QueryLimits, ValidationIssue } from './types.js';

/** Kubelet constants (kubelet_server_journal.go). */
export const KUBELET_MAX_TAIL_LINES = 100000;
export const KUBELET_MAX_SERVICE_LENGTH = 256;
export const KUBELET_MAX_SERVICES = 4;
/** Our own cap: journalctl/PowerShell take the pattern on a command line; nothing useful is longer. */
export const MAX_PATTERN_LENGTH = 1024;

const SERVICE_CHARS = /^[a-zA-Z0-9._:@-]+$/;
const SERVICE_EXAMPLES = '"kubelet", "containerd", "crio", "kube-proxy"';

export interface AnalyzedQuery {
  /** Services in the caller's order, duplicates removed. */
  services: string[];
  duplicateServices: string[];
  /** Normalized file ("/kube-apiserver.log") for a file query. */
  file?: string;
  pattern?: string;
  since?: Rfc3339Instant;
  until?: Rfc3339Instant;
  tailLines?: number;
  boot?: number;
}

interface Ctx {
  os: NodeOs;
  limits: QueryLimits;
}

const quote = (v: string) => JSON.stringify(v.length > 120 ? v.slice(0, 120) + '…' : v);
const utf8Length = (v: string) => Buffer.byteLength(v, 'utf8');

/** The kubelet treats an empty value as absent; so do we. */
function optionalString(
  input: Record<string, unknown>,
  field: string,
  issues: ValidationIssue[],
): string | undefined {
  const v = input[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    issues.push({ field, message: `${field} must be a string, got ${typeof v}.`, fix: `Pass ${field} as a string or leave it out.` });
    return undefined;
  }
  return v;
}

function optionalInteger(input: Record<string, unknown>, field: string, issues: ValidationIssue[]): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    const shown = typeof v === 'number' ? String(v) : typeof v === 'string' ? quote(v) : typeof v;
    issues.push({
      field,
      message: `${field} must be a whole number, got ${shown} (kubelet: "strconv.Atoi: invalid syntax").`,
      fix: field === 'tailLines' ? 'Pass tailLines as an integer from 0 to 100000, e.g. 200.' : 'Pass boot as an integer ≤ 0: 0 is the current boot, -1 the previous one.',
    });
    return undefined;
  }
  return v;
}

function checkService(svc: string, issues: ValidationIssue[]): void {
  // The kubelet reports the length first and the characters only when the length is fine.
  if (utf8Length(svc) > KUBELET_MAX_SERVICE_LENGTH) {
    issues.push({
      field: 'query',
      message: `service name ${quote(svc)} is ${utf8Length(svc)} bytes long; the kubelet accepts at most ${KUBELET_MAX_SERVICE_LENGTH} (kubelet: "length must be less than 100").`,
      fix: `Use the systemd unit name without the ".service" suffix, e.g. ${SERVICE_EXAMPLES}.`,
    });
    return;
  }
  if (svc.includes('..') || /^\.+$/.test(svc)) {
    // The kubelet accepts these, then joins them to /var/log in its file heuristics (svc, svc.log, svc/svc.log):
    // no unit is named like that, and "../x" reaches outside /var/log on kubelets without rooted opens.
    issues.push({
      field: 'query',
      message: `service name ${quote(svc)} is a path component (dots), not a unit name: the kubelet would look for it as /var/log/${svc}, outside /var/log.`,
      fix: `Give a unit name such as ${SERVICE_EXAMPLES}, or a file path relative to /var/log such as "/syslog".`,
    });
    return;
  }
  if (!SERVICE_CHARS.test(svc)) {
    const bad = [...new Set([...svc].filter((c) => !/[a-zA-Z0-9._:@-]/.test(c)))]
      .slice(0, 5)
      .map((c) => (c === ' ' ? 'space' : JSON.stringify(c)))
      .join(', ');
    issues.push({
      field: 'query',
      message: `service name ${quote(svc)} contains characters the kubelet refuses (${bad}); allowed are letters, digits and - _ . : @ (kubelet: "input contains unsupported characters").`,
      fix: `Give a bare unit or provider name without spaces, e.g. ${SERVICE_EXAMPLES}; to read a file, give a path with a slash like "/kube-apiserver.log"; to filter lines, use pattern.`,
    });
  }
}

/** Validate and normalize; `query` is set only when there are no issues. */
export function analyzeNodeLogQuery(input: NodeLogQueryInput, ctx: Ctx): { issues: ValidationIssue[]; query?: AnalyzedQuery } {
  const issues: ValidationIssue[] = [];
  if (typeof input !== 'object' || input === null) {
    return { issues: [{ field: 'query', message: 'the query arguments are missing.', fix: 'Pass at least query, e.g. { "query": "kubelet" }.' }] };
  }
  const raw = input as unknown as Record<string, unknown>;
  const q = raw.query;
  const values: string[] = [];
  if (typeof q === 'string') values.push(q);
  else if (Array.isArray(q) && q.every((v) => typeof v === 'string')) values.push(...(q as string[]));
  else if (q !== undefined && q !== null) {
    issues.push({ field: 'query', message: 'query must be a string or an array of strings.', fix: 'Pass e.g. "kubelet", ["kubelet", "containerd"] or "/kube-apiserver.log".' });
  }

  // Blank values are dropped, as the kubelet does.
  const nonBlank = values.filter((v) => v.trim() !== '');
  const services: string[] = [];
  const duplicateServices: string[] = [];
  const fileValues: string[] = [];
  if (nonBlank.length === 0 && issues.length === 0) {
    issues.push({
      field: 'query',
      message: 'query is required and must not be blank (kubelet: "query cannot be empty").',
      fix: `Give one to four service names, e.g. ${SERVICE_EXAMPLES}, or one file relative to /var/log, e.g. "/kube-apiserver.log".`,
    });
  }
  for (const v of nonBlank) {
    if (isFileQuery(v)) {
      fileValues.push(v);
      continue;
    }
    if (services.includes(v)) {
      if (!duplicateServices.includes(v)) duplicateServices.push(v);
      continue;
    }
    services.push(v);
    checkService(v, issues);
  }
  if (services.length > KUBELET_MAX_SERVICES) {
    issues.push({
      field: 'query',
      message: `query names ${services.length} services; the kubelet accepts at most ${KUBELET_MAX_SERVICES} (kubelet: "Too many: ${services.length}: must have at most 4 items").`,
      fix: 'Split the services over several calls of at most 4 each.',
    });
  }

  let file: string | undefined;
  if (fileValues.length > 1) {
    issues.push({
      field: 'query',
      message: `query names ${fileValues.length} files (${fileValues.map(quote).join(', ')}); only one file can be read per request (kubelet: "cannot specify more than one file").`,
      fix: 'Make one call per file.',
    });
  } else if (fileValues.length === 1 && services.length > 0) {
    issues.push({
      field: 'query',
      message: `query mixes a file (${quote(fileValues[0])}) with services (${services.map(quote).join(', ')}); the kubelet reads either services or one file (kubelet: "cannot specify a file and service").`,
      fix: 'Make one call for the services and another for the file.',
    });
  } else if (fileValues.length === 1) {
    const checked = checkFilePath(fileValues[0]);
    if (checked.ok) file = checked.file;
    else issues.push(checked.issue);
  }

  const pattern = optionalString(raw, 'pattern', issues);
  if (pattern !== undefined) {
    if (pattern.length > MAX_PATTERN_LENGTH) {
      issues.push({ field: 'pattern', message: `pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are accepted.`, fix: 'Use a shorter regular expression, e.g. the most distinctive word of the lines you want.' });
    } else {
      const re = checkGoRegexp(pattern);
      // Service answers are re-checked here on their redacted text too, but a pattern that cannot run here
      // does not stop a service query: its redacted lines are left out instead (see query-node.ts).
      const localProblem = re.ok && fileValues.length > 0 && services.length === 0 ? localPatternProblem(pattern) : undefined;
      if (localProblem) {
        issues.push({
          field: 'pattern',
          message: `pattern ${quote(pattern)} cannot be applied to a file by this server: ${localProblem}.`,
          fix: 'Simplify it: fewer repetitions (one ".*" between the words you want), ASCII classes instead of \\pL, + or * instead of large {n,m} counts; or query a service, whose pattern runs on the node.',
        });
      }
      if (!re.ok) {
        issues.push({
          field: 'pattern',
          message: `pattern ${quote(pattern)} is not a valid Go regular expression: ${re.message}.`,
          fix: 'Use RE2/Go syntax: no backreferences (\\1), lookarounds ((?=, (?!, (?<=, (?<!), atomic groups or possessive quantifiers; escape literal metacharacters with a backslash, e.g. "error\\(s\\)" or "\\[ERROR\\]".',
        });
      }
    }
  }

  const times: Partial<Record<'sinceTime' | 'untilTime', Rfc3339Instant>> = {};
  for (const field of ['sinceTime', 'untilTime'] as const) {
    const v = optionalString(raw, field, issues);
    if (v === undefined) continue;
    const t = parseRfc3339(v);
    if (!t) {
      issues.push({
        field,
        message: `${field} ${quote(v)} is not an RFC 3339 timestamp (kubelet: "invalid time format").`,
        fix: `Write it as YYYY-MM-DDTHH:MM:SS with a "T" and a zone, e.g. "2026-11-27T03:44:01Z" or "2026-11-27T04:44:01+01:00"; fractional seconds are optional and the date must exist.`,
      });
    } else times[field] = t;
  }
  if (times.sinceTime && times.untilTime && compareInstants(times.sinceTime, times.untilTime) > 0) {
    issues.push({
      field: 'untilTime',
      message: `untilTime (${times.untilTime.utc}) is before sinceTime (${times.sinceTime.utc}) (kubelet: "must be after \`sinceTime\`").`,
      fix: 'Swap the two values, or move untilTime later; equal times are allowed.',
    });
  }

  const tailLines = optionalInteger(raw, 'tailLines', issues);
  if (tailLines !== undefined && (tailLines < 0 || tailLines > KUBELET_MAX_TAIL_LINES)) {
    issues.push({
      field: 'tailLines',
      message: `tailLines ${tailLines} is out of range (kubelet: "must be between 0 and 100000, inclusive").`,
      fix: `Pass an integer from 0 to 100000; the server reads at most ${ctx?.limits?.maxTailLines ?? KUBELET_MAX_TAIL_LINES} lines anyway.`,
    });
  }

  const boot = optionalInteger(raw, 'boot', issues);
  if (boot !== undefined) {
    if (ctx?.os === 'windows') {
      issues.push({
        field: 'boot',
        message: 'boot cannot be used on a Windows node: Windows event logs have no boot index (kubelet: "boot is not supported on Windows").',
        fix: 'Leave boot out and bound the query with sinceTime/untilTime instead.',
      });
    } else if (boot > 0) {
      issues.push({
        field: 'boot',
        message: `boot ${boot} is positive; journal boot offsets count back from the current boot (kubelet: "must be less than 1").`,
        fix: 'Use 0 for the current boot, -1 for the previous one, -2 for the one before, and so on.',
      });
    } else if (file !== undefined || (fileValues.length > 0 && services.length === 0)) {
      issues.push({
        field: 'boot',
        message: 'boot cannot be applied to a file query: plain log files carry no boot index (kubelet: "cannot specify file with options").',
        fix: 'Leave boot out, or bound the file with sinceTime/untilTime (applied by this server), or query the service instead of the file.',
      });
    }
  }

  if (issues.length > 0) return { issues };
  return {
    issues,
    query: { services, duplicateServices, file, pattern, since: times.sinceTime, until: times.untilTime, tailLines, boot },
  };
}

/** [] = valid. */
export function validateNodeLogQuery(input: NodeLogQueryInput, ctx: Ctx): ValidationIssue[] {
  return analyzeNodeLogQuery(input, ctx).issues;
}
