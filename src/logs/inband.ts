/**
 * Messages that the kubelet or journalctl write into a 200 body next to the log lines
 * (kubelet-node-log-query.md §3–4). They describe the query, not the node, so they are reported apart.
 * One classifier for the server's answers and for `summarize` over a local file.
 */

/** Kinds of in-band messages the kubelet and journalctl write into a 200 body among the log lines. */
export type InbandKind =
  | 'no-entries'
  | 'log-not-found'
  | 'options-with-file-logger'
  | 'options-with-file-logger-hint'
  | 'journal-unavailable'
  | 'file-read-error'
  | 'journalctl-error'
  | 'boot-separator'
  | 'journal-header'
  | 'table-format'
  | 'windows-no-events'
  | 'powershell-error'
  | 'powershell-error-detail';

const INBAND: [RegExp, InbandKind][] = [
  [/^-- No entries --$/, 'no-entries'],
  [/^log not found for .+$/, 'log-not-found'],
  [/^options present and query resolved to log files for \[.*\]$/, 'options-with-file-logger'],
  [/^try without specifying options$/, 'options-with-file-logger-hint'],
  [/^error: journal output not available$/, 'journal-unavailable'],
  [/^error getting log for .+: .+$/, 'file-read-error'],
  [/^-- Boot [0-9a-f]{32} --$/, 'boot-separator'],
  [/^-- (Logs begin at|Journal begins at|Reboot) .*$/, 'journal-header'],
  [
    /^(Data from the specified boot \(.*\) is not available: .*|No journal boot entry found .*|No journal files were found.*|Failed to parse timestamp.*|Specifying boot ID or boot offset has no effect, no persistent journal was found\.|Failed to (add filter for units|add match|look up boot|seek to|determine boot|parse boot|get boot|iterate through journal|open journal|search journal).*|Invalid boot .*|Could not find boot.*|Failed to compile pattern.*|journalctl: .*)$/,
    'journalctl-error',
  ],
];

// The characters each INBAND pattern can start with (same order). Journal lines start with a month name
// and files with arbitrary text: a line is only tested against the patterns that can match it.
const INBAND_FIRST = ['-', 'l', 'o', 't', 'e', 'e', '-', '-', 'DNFSICj'];
const INBAND_BY_FIRST: ([RegExp, InbandKind][] | undefined)[] = [];
INBAND.forEach((entry, i) => {
  for (const ch of INBAND_FIRST[i]!) (INBAND_BY_FIRST[ch.charCodeAt(0)] ??= []).push(entry);
});

/** Classifies one line of a journal answer; undefined for ordinary log lines. Cheap for log lines. */
export function classifyInbandLine(line: string): InbandKind | undefined {
  const c0 = line.charCodeAt(0);
  const candidates = INBAND_BY_FIRST[c0];
  if (candidates === undefined) return undefined;
  // "Nov 30 …", "Dec  1 …", "Feb …", "Sep …": a journal line's month shares its first letter with some
  // patterns, but none of those has a space as its fourth character.
  if (c0 >= 65 && c0 <= 90 && line.charCodeAt(3) === 32) return undefined;
  for (const [re, kind] of candidates) if (re.test(line)) return kind;
  return undefined;
}

const WINDOWS_SPECIAL_FIRST = new Set([...'PT-GWSFA+'].map((ch) => ch.charCodeAt(0)));

/**
 * Windows answers are a PowerShell Format-Table: provider headings, column headings and dashes are layout,
 * not events. Everything else is classified as for Linux.
 */
export function classifyWindowsInbandLine(line: string): InbandKind | undefined {
  // Every line goes through here: one that starts with a printable ASCII character other than the
  // first characters of the layout lines (P, T, -) and of PowerShell's error records (G, W, S, F, A, +)
  // cannot be either, so no trim and no regexes.
  const c = line.charCodeAt(0);
  if (c > 32 && c < 127 && !WINDOWS_SPECIAL_FIRST.has(c)) return classifyInbandLine(line);
  const t = line.trim();
  if (t === '') return 'table-format';
  if (/^ProviderName: /.test(t) || /^TimeCreated\s+Id\s+LevelDisplayName\s+Message$/.test(t) || /^-{5,}\s+-+\s+-+\s+-+$/.test(t)) return 'table-format';
  // PowerShell's error records on stderr: "Get-WinEvent : No events were found …" is an empty answer;
  // its "At line", "+ …" and "+ CategoryInfo / FullyQualifiedErrorId" lines belong to it.
  if (/^Get-WinEvent : No events were found that match the specified selection criteria\.?$/.test(t)) return 'windows-no-events';
  if (/^[\w-]+ : \S/.test(line) && /^(Get-WinEvent|Where-Object|Sort-Object|Format-Table) : /.test(line)) return 'powershell-error';
  if (/^At line:\d+ char:\d+$/.test(t) || /^\+ /.test(line) || /^ {4}\+ (CategoryInfo|FullyQualifiedErrorId)\s*:/.test(line)) return 'powershell-error-detail';
  return classifyInbandLine(line);
}
