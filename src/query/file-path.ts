/**
 * File queries name one file under the node's /var/log (C:\var\log on Windows).
 * The kubelet joins the value securely under that root, so the checks here are
 * about giving the caller a clear answer before a request is made, and about
 * never putting anything traversal-shaped on the wire, whatever the kubelet does.
 */
import type { ValidationIssue } from './types.js';

export const MAX_FILE_PATH_LENGTH = 1024;

/** A query value is a file when it contains a slash or backslash (the kubelet's rule). */
export function isFileQuery(value: string): boolean {
  return value.includes('/') || value.includes('\\');
}

export type FilePathCheck = { ok: true; file: string } | { ok: false; issue: ValidationIssue };

const issue = (message: string, fix: string): FilePathCheck => ({ ok: false, issue: { field: 'query', message, fix } });

/**
 * Check a file query and return its normalized form: forward slashes, one
 * leading slash, no empty or `.` segments (e.g. `\kube\x.log` → `/kube/x.log`);
 * a directory keeps its trailing slash (`/pods/`, `/`) and is answered with its listing.
 */
export function checkFilePath(raw: string): FilePathCheck {
  const shown = JSON.stringify(raw.length > 200 ? raw.slice(0, 200) + '…' : raw);
  if (raw.length > MAX_FILE_PATH_LENGTH) {
    return issue(`file path ${shown} is ${raw.length} characters long; at most ${MAX_FILE_PATH_LENGTH} are accepted.`, 'Give the path of one log file under /var/log, e.g. "/kube-apiserver.log".');
  }
  // Unicode-aware Cc covers NUL, C0, DEL and C1; none belong in a log file name.
  if (/\p{Cc}/u.test(raw)) {
    return issue(`file path ${shown} contains a control character (NUL, newline, tab, …).`, 'Remove control characters from the path; give a plain path such as "/kube-apiserver.log".');
  }
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(raw)) {
    return issue(`file path ${shown} is not valid Unicode (it has a lone surrogate).`, 'Give the path as plain text, e.g. "/kube-apiserver.log".');
  }
  if (/%[0-9A-Fa-f]{2}/.test(raw)) {
    return issue(`file path ${shown} contains percent-encoding (such as %2e or %2f); paths are sent encoded by the server and must be given decoded.`, 'Write the path literally, e.g. "/pods/x.log" instead of "%2Fpods%2Fx.log".');
  }
  if (/^[A-Za-z]:/.test(raw) || /^[\\/]{2}/.test(raw)) {
    return issue(`file path ${shown} is an absolute Windows drive or UNC path; file queries are relative to the node's log directory (/var/log, or C:\\var\\log on Windows).`, 'Give the path below that directory, e.g. "/kubelet.log" for C:\\var\\log\\kubelet.log.');
  }
  const normalizedSlashes = raw.replace(/\\/g, '/');
  const segments = normalizedSlashes.split('/').filter((s) => s !== '' && s !== '.');
  // Any ".." at all, not just a whole segment: Windows trims trailing dots and
  // spaces ("... " acts as ".."), and no real log file needs two dots in a row.
  if (normalizedSlashes.includes('..') || segments.some((s) => s.normalize('NFKC').includes('..'))) {
    return issue(`file path ${shown} contains ".."; file queries cannot leave /var/log (and ".." is refused in any spelling).`, 'Give a path inside /var/log without "..", e.g. "/kube-apiserver.log" or "/pods/<pod-dir>/<container>/0.log".');
  }
  // A trailing slash (or "/" alone) asks for a directory: the kubelet's file server lists it.
  const directory = segments.length === 0 || /[/]\.?$/.test(normalizedSlashes);
  if (segments[0] === 'var' && segments[1] === 'log') {
    const rest = '/' + segments.slice(2).join('/');
    return issue(`file path ${shown} starts with /var/log, but paths are relative to /var/log (the kubelet would look for /var/log/var/log/…).`, segments.length > 2 ? `Use "${rest}".` : 'Name a file below /var/log, e.g. "/kube-apiserver.log".');
  }
  return { ok: true, file: '/' + segments.join('/') + (directory && segments.length ? '/' : '') };
}
