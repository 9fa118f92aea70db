/**
 * ANSI escape sequences (colours, cursor moves) in log lines. They are stripped before anything reads a
 * line: "\x1b[31mFATAL\x1b[0m" must read as the level FATAL, and colour codes must not split templates.
 */

// CSI, OSC (terminated by BEL or ST), and two-character ESC sequences.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;

export function stripAnsi(s: string): string {
  return s.includes('\x1b') ? s.replace(ANSI, '') : s;
}
