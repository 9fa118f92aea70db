/**
 * Splits a node log line into the part that varies per line (journal/klog/CRI headers) and the message
 * that template mining groups on. All patterns are anchored, so a non-matching line fails in a few steps.
 */

export interface SplitLine {
  /** journald SYSLOG_IDENTIFIER ("kubelet", "containerd", "kernel"), when the line has a journal header. */
  ident?: string;
  /** Offset of the message part in the line. */
  messageStart: number;
  /** The message, without journal/klog/CRI/timestamp headers. */
  message: string;
  /** 'I' | 'W' | 'E' | 'F' when the message had a klog header. */
  klogLevel?: string;
}

// "Nov 27 03:44:01.123456 host unit[pid]: " (journalctl --output=short-precise; also plain syslog).
const JOURNAL = /^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ ([^\s:[]+)(?:\[\d+\])?: ?/;
// "I1127 03:44:01.123456    1234 file.go:123] "
const KLOG = /^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]\s]*\] ?/;
// "2026-11-27T03:44:01.123456789Z stdout F " (CRI container log files)
const CRI = /^\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP] /;
// A leading RFC3339 timestamp token, e.g. "2026-11-27T03:44:01.123Z " or "2026-11-27 03:44:01,123 "
const ISO = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S* +/;
// logfmt time="…" first field (containerd)
const LOGFMT_TIME = /^time=(?:"[^"]*"|\S+) +/;
// Windows Format-Table row: "11/27/2026 3:44:01 AM "
const WINDOWS = /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d\d:\d\d(?: [AP]M)? +/;

export function splitLine(line: string): SplitLine {
  let start = 0;
  let ident: string | undefined;
  const c0 = line.charCodeAt(0);
  if (c0 >= 65 && c0 <= 90) {
    const j = JOURNAL.exec(line);
    if (j) {
      ident = j[1];
      start = j[0].length;
    }
  } else if (c0 >= 48 && c0 <= 57) {
    const m = CRI.exec(line) ?? ISO.exec(line) ?? WINDOWS.exec(line);
    if (m) start = m[0].length;
  }
  let rest = start === 0 ? line : line.slice(start);
  let klogLevel: string | undefined;
  const k0 = rest.charCodeAt(0);
  if (k0 === 73 || k0 === 87 || k0 === 69 || k0 === 70) {
    const k = KLOG.exec(rest);
    if (k) {
      klogLevel = k[1];
      start += k[0].length;
      rest = rest.slice(k[0].length);
    }
  } else if (k0 === 116) {
    const t = LOGFMT_TIME.exec(rest);
    if (t) {
      start += t[0].length;
      rest = rest.slice(t[0].length);
    }
  } else if (k0 >= 48 && k0 <= 57 && start > 0) {
    // An RFC3339 stamp after the journal header (some daemons log their own time).
    const m = ISO.exec(rest);
    if (m) {
      start += m[0].length;
      rest = rest.slice(m[0].length);
    }
  }
  return { ident, messageStart: start, message: rest, klogLevel };
}
