/** Severity of one log line, from the most explicit signal the line carries. */

export type Severity = 'fatal' | 'error' | 'warning' | 'info' | 'debug' | 'unknown';

export const SEVERITIES: readonly Severity[] = ['fatal', 'error', 'warning', 'info', 'debug', 'unknown'];

/** Lower is more severe; used for ranking and for "worst severity seen" per template. */
export const SEVERITY_RANK: Record<Severity, number> = { fatal: 0, error: 1, warning: 2, info: 3, debug: 4, unknown: 5 };

export function emptySeverityCounts(): Record<Severity, number> {
  return { fatal: 0, error: 0, warning: 0, info: 0, debug: 0, unknown: 0 };
}

const KLOG_LEVELS: Record<string, Severity> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };

/** Level words as logfmt, JSON, syslog priorities and Windows event levels spell them. */
export function severityFromWord(word: string): Severity | undefined {
  switch (word.toLowerCase()) {
    case 'fatal': case 'panic': case 'crit': case 'critical': case 'emerg': case 'emergency': case 'alert':
      return 'fatal';
    case 'error': case 'err': case 'eror':
      return 'error';
    case 'warn': case 'warning':
      return 'warning';
    case 'info': case 'information': case 'notice': case 'informational':
      return 'info';
    case 'debug': case 'trace': case 'verbose':
      return 'debug';
    default:
      return undefined;
  }
}

const LEVEL_FIELD = /\b(?:level|lvl|severity)=["']?([A-Za-z]+)|"(?:level|lvl|severity)"\s*:\s*"([A-Za-z]+)"/;
// Windows Get-WinEvent table rows carry the level as a column after the time (and id).
const WIN_LEVEL = /^\d{1,2}\/\d{1,2}\/\d{4} [\d:]+(?: [AP]M)?\s+(?:\d+\s+)?(Information|Warning|Error|Critical|Verbose)\b/;
// Bracketed or prefixed priority words: "[ERROR]", "ERROR:", "<warn>".
const PRIORITY_WORD = /(?:^|[\s[<(])(EMERG|ALERT|CRIT|CRITICAL|FATAL|PANIC|ERROR|ERR|WARN|WARNING|NOTICE|INFO|DEBUG|TRACE)(?:[\]>):]|\s)/;
const RESTARTING = /restart counter is at \d+/;
const KEYWORDS =
  /\b(panic|fatal|oom|out of memory|oops|segfault|error|errors|failed|failure|fail|timeout|timed out|refused|denied|unable|cannot|could not|exception|killed|warn|warning|deprecated)\b/i;

/**
 * @param message the message part (after journal/klog headers), @param klogLevel the klog letter
 * when the header split found one, @param line the whole line (for Windows table rows).
 */
export function detectSeverity(message: string, klogLevel?: string, line?: string): Severity {
  if (klogLevel) return KLOG_LEVELS[klogLevel] ?? 'unknown';
  if (message.includes('level') || message.includes('severity') || message.includes('lvl')) {
    const m = LEVEL_FIELD.exec(message);
    if (m) {
      const s = severityFromWord(m[1] ?? m[2] ?? '');
      if (s) return s;
    }
  }
  if (line && line.charCodeAt(0) >= 48 && line.charCodeAt(0) <= 57) {
    const w = WIN_LEVEL.exec(line);
    if (w) return severityFromWord(w[1]!) ?? 'unknown';
  }
  const p = PRIORITY_WORD.exec(message);
  if (p) {
    const s = severityFromWord(p[1]!);
    if (s) return s;
  }
  const k = KEYWORDS.exec(message);
  // systemd restarting a unit that keeps exiting (a crash loop) says so without any trouble word.
  if (!k) return RESTARTING.test(message) ? 'warning' : 'unknown';
  const w = k[1]!.toLowerCase();
  if (w === 'panic' || w === 'fatal' || w === 'oops') return 'fatal';
  if (w === 'warn' || w === 'warning' || w === 'deprecated') return 'warning';
  return 'error';
}
