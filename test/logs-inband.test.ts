import { describe, expect, it } from 'vitest';
import { classifyInbandLine, classifyWindowsInbandLine } from '../src/logs/inband.js';

// Every line of an answer goes through these classifiers, so they only test the patterns a line's
// first character allows (and Windows layout only for lines that can be layout): each kind is pinned
// here, with ordinary lines that start with the same characters.
describe('in-band message classification', () => {
  it.each([
    ['-- No entries --', 'no-entries'],
    ['log not found for kubelet.log', 'log-not-found'],
    ['options present and query resolved to log files for [kubelet.log]', 'options-with-file-logger'],
    ['try without specifying options', 'options-with-file-logger-hint'],
    ['error: journal output not available', 'journal-unavailable'],
    ['error getting log for x.log: permission denied', 'file-read-error'],
    ['-- Boot 0123456789abcdef0123456789abcdef --', 'boot-separator'],
    ['-- Logs begin at Mon 2026-11-23 00:00:00 UTC. --', 'journal-header'],
    ['-- Reboot --', 'journal-header'],
    ['Data from the specified boot (-1) is not available: No such boot ID in journal', 'journalctl-error'],
    ['No journal boot entry found from the specified boot offset (-5).', 'journalctl-error'],
    ['No journal files were found.', 'journalctl-error'],
    ['Failed to parse timestamp: yesterday-ish', 'journalctl-error'],
    ['Specifying boot ID or boot offset has no effect, no persistent journal was found.', 'journalctl-error'],
    ['Failed to add match: Invalid argument', 'journalctl-error'],
    ['Invalid boot ID', 'journalctl-error'],
    ['Could not find boot -3', 'journalctl-error'],
    ['Failed to compile pattern: x', 'journalctl-error'],
    ['journalctl: invalid option', 'journalctl-error'],
    ['Nov 27 03:44:01.123456 node-1 kubelet[2291]: I1127 started', undefined],
    ['Dec 01 00:00:00 node-1 systemd[1]: Started x.', undefined],
    ['No route to host', undefined],
    ['Failed to start kubelet.service', undefined],
    ['-- no marker', undefined],
    ['error while dialing', undefined],
  ])('%s', (line, kind) => {
    expect(classifyInbandLine(line)).toBe(kind);
    expect(classifyWindowsInbandLine(line)).toBe(kind);
  });

  it.each([
    ['', 'table-format'],
    ['   ', 'table-format'],
    ['\u00a0\t', 'table-format'],
    ['   ProviderName: containerd', 'table-format'],
    ['ProviderName: kubelet', 'table-format'],
    ['TimeCreated                     Id LevelDisplayName Message', 'table-format'],
    ['-----------                     -- ---------------- -------', 'table-format'],
    ['  -----------  --  ----  -------', 'table-format'],
    ['\u00a0-- No entries --', undefined],
    [' -- No entries --', undefined],
    ['Provider started', undefined],
    ['TimeCreated is a column', undefined],
    ['11/27/2026 3:44:01 AM     1 Information  kubelet started', undefined],
    // PowerShell's error records: their first characters must not take the fast path for ordinary lines.
    ['Get-WinEvent : No events were found that match the specified selection criteria.', 'windows-no-events'],
    ["Get-WinEvent : Cannot validate argument on parameter 'MaxEvents'.", 'powershell-error'],
    ['Where-Object : Cannot bind argument', 'powershell-error'],
    ['At line:1 char:1', 'powershell-error-detail'],
    ['+ Get-WinEvent -FilterHashtable @{LogName=\'Application\'}', 'powershell-error-detail'],
    ['    + CategoryInfo          : ObjectNotFound: (:) [Get-WinEvent], Exception', 'powershell-error-detail'],
    ['Getting started', undefined],
    ['At last the kubelet started', undefined],
  ])('Windows layout: %j', (line, kind) => {
    expect(classifyWindowsInbandLine(line)).toBe(kind);
  });
});

describe('in-band classification: journal lines skip the patterns by their month', () => {
  it('keeps every capitalised journalctl message and passes every month', async () => {
    const { classifyInbandLine: classify } = await import('../src/logs/inband.js');
    for (const msg of [
      'Data from the specified boot (-1) is not available: No such boot ID in journal',
      'No journal boot entry found from the specified boot offset (-1).',
      'No journal files were found.',
      'Failed to add filter for units: No data available',
      'Specifying boot ID or boot offset has no effect, no persistent journal was found.',
      'Invalid boot ID: abc',
      'Could not find boot x',
    ])
      expect(classify(msg), msg).toBe('journalctl-error');
    for (const m of ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'])
      expect(classify(`${m} 30 13:50:29.468330 node-1 kubelet[2291]: No journal files were found.`)).toBeUndefined();
  });
});
