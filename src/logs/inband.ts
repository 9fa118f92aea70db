/**
 * Messages that the kubelet or journalctl write into a 200 body next to the log lines
 * (kubelet-node-log-query.md §3–4). They describe the query, not the node, so they are reported apart.
 */
export function classifyKubeletInband(line: string): string | undefined {
  const c0 = line.charCodeAt(0);
  if (c0 === 45 /* - */) {
    if (line === '-- No entries --') return 'no-entries';
    if (/^-- Boot [0-9a-f]{32} --$/.test(line) || line === '-- Reboot --') return 'boot-marker';
    if (line.startsWith('-- Logs begin at ') || line.startsWith('-- Journal begins at ')) return 'journal-range';
    if (/^-+(?:\s+-+)+\s*$/.test(line)) return 'table-header';
    return undefined;
  }
  if (line.startsWith('log not found for ')) return 'log-not-found';
  if (line === 'error: journal output not available') return 'journal-unavailable';
  if (line.startsWith('options present and query resolved to log files for ') || line === 'try without specifying options') {
    return 'options-with-file';
  }
  if (/^error getting log for .*: context deadline exceeded$/.test(line)) return 'deadline';
  if (
    line.startsWith('Data from the specified boot') ||
    line.startsWith('Specifying boot ID or boot offset has no effect') ||
    line.startsWith('No journal files were found') ||
    line.startsWith('Failed to add filter for units') ||
    line.startsWith('Failed to parse timestamp')
  ) {
    return 'journalctl-error';
  }
  // Windows Format-Table framing: group headers and the column header row.
  if (line.startsWith('   ProviderName: ') || line.startsWith('ProviderName: ')) return 'table-header';
  if (/^TimeCreated\s+Id\s+LevelDisplayName\s+Message\s*$/.test(line)) return 'table-header';
  return undefined;
}
