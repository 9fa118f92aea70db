/**
 * kubelet_server_journal_windows.go: the PowerShell script and kubelet_* environment (CVE-2024-9042 fix),
 * and an emulation of what that script prints for a list of Application-log events.
 */
import type { WinEvent } from '../journal/types.js';
import { formatDateLayout } from './goTime.js';
import { zoneOffsetMs, zonedWallToUtcMs } from '../journal/timestamp.js';
import type { NodeLogQuery } from './nodeLogQuery.js';

export interface PowerShellCommand {
  script: string;
  env: Record<string, string>;
}

export function buildPowerShell(q: NodeLogQuery, services: readonly string[]): PowerShellCommand {
  const env: Record<string, string> = {};
  if (q.sinceTime) env.kubelet_sinceTime = formatDateLayout(q.sinceTime);
  if (q.untilTime) env.kubelet_untilTime = formatDateLayout(q.untilTime);
  services.forEach((s, i) => { if (s.length > 0) env[`kubelet_provider${i}`] = s; });
  if (q.tailLines !== undefined) env.kubelet_tailLines = q.tailLinesText!;
  if (q.pattern.length > 0) env.kubelet_pattern = q.pattern;

  let ps = "Get-WinEvent -FilterHashtable @{LogName='Application'";
  if (q.sinceTime) ps += '; StartTime="$Env:kubelet_sinceTime"';
  if (q.untilTime) ps += '; EndTime="$Env:kubelet_untilTime"';
  const providers = services.flatMap((s, i) => (s.length > 0 ? [`$Env:kubelet_provider${i}`] : []));
  if (providers.length) ps += `; ProviderName=${providers.join(',')}`;
  ps += '}';
  if (q.tailLines !== undefined) ps += ' -MaxEvents $Env:kubelet_tailLines';
  ps += ' | Sort-Object TimeCreated';
  if (q.pattern.length > 0) ps += ' | Where-Object -Property Message -Match "$Env:kubelet_pattern"';
  ps += ' | Format-Table -AutoSize -Wrap';
  return { script: ps, env };
}

/** The native probe: `Get-WinEvent -ListProvider <svc>` succeeds for a registered provider. */
export function isWinProvider(events: readonly WinEvent[], service: string): boolean {
  const lower = service.toLowerCase();
  return events.some((e) => e.provider.toLowerCase() === lower);
}

const CRLF = '\r\n';

/** en-US "M/d/yyyy h:mm:ss tt" in the node's local zone. */
export function winTime(at: Date, timeZone = 'UTC'): string {
  const d = new Date(at.getTime() + zoneOffsetMs(at.getTime(), timeZone));
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** PowerShell casts "2026-1-2 3:4:5" to a DateTime in the node's local time. */
function psDate(s: string, timeZone: string): number {
  const m = /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$/.exec(s)!;
  return zonedWallToUtcMs(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!), timeZone);
}

function noEventsError(script: string): string {
  const shown = script.length > 75 ? script.slice(0, 72) + ' ...' : script;
  return [
    'Get-WinEvent : No events were found that match the specified selection criteria.',
    'At line:1 char:1',
    `+ ${shown}`,
    `+ ${'~'.repeat(Math.min(shown.length, 77))}`,
    '    + CategoryInfo          : ObjectNotFound: (:) [Get-WinEvent], Exception',
    '    + FullyQualifiedErrorId : NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand',
    ' ',
    '',
  ].join(CRLF);
}

function maxEventsError(n: string): string {
  return [
    `Get-WinEvent : Cannot validate argument on parameter 'MaxEvents'. The ${n} argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.`,
    '    + CategoryInfo          : InvalidData: (:) [Get-WinEvent], ParameterBindingValidationException',
    '    + FullyQualifiedErrorId : ParameterArgumentValidationError,Microsoft.PowerShell.Commands.GetWinEventCommand',
    ' ',
    '',
  ].join(CRLF);
}

/** Runs the script's semantics over `events` and renders Format-Table -AutoSize -Wrap output. */
export function runPowerShellQuery(events: readonly WinEvent[], cmd: PowerShellCommand, timeZone = 'UTC'): string {
  const env = cmd.env;
  if (env.kubelet_tailLines !== undefined && Number(env.kubelet_tailLines) < 1) return maxEventsError(env.kubelet_tailLines);
  const providers = Object.keys(env).filter((k) => k.startsWith('kubelet_provider')).map((k) => env[k]!.toLowerCase());
  const since = env.kubelet_sinceTime ? psDate(env.kubelet_sinceTime, timeZone) : undefined;
  const until = env.kubelet_untilTime ? psDate(env.kubelet_untilTime, timeZone) : undefined;
  // Get-WinEvent yields newest first; -MaxEvents keeps the newest N before anything else filters.
  let selected = events
    .filter((e) => providers.length === 0 || providers.includes(e.provider.toLowerCase()))
    .filter((e) => (since === undefined || e.timeCreated.getTime() >= since) && (until === undefined || e.timeCreated.getTime() <= until))
    .sort((a, b) => b.timeCreated.getTime() - a.timeCreated.getTime());
  if (selected.length === 0) return noEventsError(cmd.script);
  if (env.kubelet_tailLines !== undefined) selected = selected.slice(0, Number(env.kubelet_tailLines));
  selected = selected.sort((a, b) => a.timeCreated.getTime() - b.timeCreated.getTime());
  if (env.kubelet_pattern !== undefined) {
    let rx: RegExp;
    try {
      rx = new RegExp(env.kubelet_pattern, 'i');
    } catch {
      return `Where-Object : parsing "${env.kubelet_pattern}" - invalid pattern.${CRLF}`;
    }
    selected = selected.filter((e) => rx.test(e.message));
  }
  return formatTable(selected, timeZone);
}

/** The host's console width: -Wrap breaks the Message column to fit it. */
export const TABLE_WIDTH = 120;

/** -Wrap: break at the last space that fits (or hard, for a long word); the space stays at the break. */
function wrapCell(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > 0 ? cut : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(cut > 0 ? at + 1 : at);
  }
  out.push(rest);
  return out;
}

/** Format-Table -AutoSize -Wrap with the Get-WinEvent view: a new group whenever ProviderName changes. */
export function formatTable(events: readonly WinEvent[], timeZone = 'UTC'): string {
  if (events.length === 0) return '';
  const rows = events.map((e) => ({ p: e.provider, t: winTime(e.timeCreated, timeZone), id: String(e.id), l: e.level, m: e.message }));
  const wT = Math.max('TimeCreated'.length, ...rows.map((r) => r.t.length));
  const wId = Math.max('Id'.length, ...rows.map((r) => r.id.length));
  const wL = Math.max('LevelDisplayName'.length, ...rows.map((r) => r.l.length));
  const indent = ' '.repeat(wT + wId + wL + 3);
  const header = `${'TimeCreated'.padEnd(wT)} ${'Id'.padStart(wId)} ${'LevelDisplayName'.padEnd(wL)} Message`;
  const dashes = `${'-----------'.padEnd(wT)} ${'--'.padStart(wId)} ${'----------------'.padEnd(wL)} -------`;
  let out = '';
  let group: string | undefined;
  for (const r of rows) {
    if (r.p !== group) {
      if (group !== undefined) out += CRLF;
      group = r.p;
      out += `${CRLF}   ProviderName: ${r.p}${CRLF}${CRLF}${header}${CRLF}${dashes}${CRLF}`;
    }
    const width = Math.max(20, TABLE_WIDTH - 1 - indent.length);
    const [firstLine, ...more] = r.m.split(/\r?\n/).flatMap((l) => wrapCell(l, width));
    out += `${r.t.padEnd(wT)} ${r.id.padStart(wId)} ${r.l.padEnd(wL)} ${firstLine}${CRLF}`;
    for (const line of more) out += `${indent}${line}${CRLF}`;
  }
  return out + CRLF + CRLF;
}
