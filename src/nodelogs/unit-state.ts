/**
 * `journalctl --unit=kubelet` also returns PID 1's lines about the unit (UNIT=kubelet.service):
 * "Main process exited, code=exited, status=1/FAILURE", "Failed with result 'exit-code'",
 * "Scheduled restart job, restart counter is at N". On a crash-looping kubelet these are the lines
 * that matter most, so they lead the summary, and the restart count becomes a fact of the answer.
 */
import type { LogDigest, TemplateSummary } from '../logs/pipeline.js';

const UNIT_STATE = /\.service: (Main process exited|Failed with result|Scheduled restart job|Start request repeated too quickly|Failed to start|Killing process|State 'stop-sigterm' timed out)/;

function isUnitState(t: TemplateSummary): boolean {
  return /^systemd(\[1\])?:/.test(t.template) && UNIT_STATE.test(t.template);
}

/** Moves systemd's unit-state templates to the front (errors first, then by count), keeping the rest in order. */
export function promoteUnitState(digest: LogDigest): void {
  const state = digest.templates.filter(isUnitState);
  if (state.length === 0) return;
  const rank = (t: TemplateSummary) => (t.severity === 'fatal' ? 0 : t.severity === 'error' ? 1 : t.severity === 'warning' ? 2 : 3);
  state.sort((a, b) => rank(a) - rank(b) || b.count - a.count);
  digest.templates = [...state, ...digest.templates.filter((t) => !isUnitState(t))];
}

/** "kubelet.service was restarted N times by systemd between … and …", from the restart-counter template. */
export function restartFact(digest: LogDigest, services: readonly string[], node: string): string | undefined {
  for (const svc of services) {
    const unit = `${svc}.service`;
    const t = digest.templates.find((x) => x.template.includes(`${unit}: Scheduled restart job`));
    if (!t) continue;
    const exits = digest.templates.filter((x) => x.template.includes(`${unit}: Main process exited`)).reduce((n, x) => n + x.count, 0);
    return `${unit} on ${node} ${t.count >= 3 ? "is crash-looping" : "was restarted"}: systemd restarted it ${t.count} time${t.count === 1 ? '' : 's'}${t.firstTime && t.lastTime ? ` between ${t.firstTime} and ${t.lastTime}` : ''}${exits ? ` after its main process exited (${exits} exit${exits === 1 ? '' : 's'} seen)` : ''}. The unit's own error lines just before each exit say why it fails to start.`;
  }
  return undefined;
}
