import v8 from 'node:v8';

// User patterns run locally on file lines: let V8 switch to its linear-time engine instead of backtracking
// forever (see log-summarization.md §7). Imported first so it is set before any pattern runs.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
// …and the 'l' flag, which compiles a pattern for the linear-time engine only (or refuses it): the fallback
// above does not cover every shape (counted repetitions, the i and u flags).
v8.setFlagsFromString('--enable-experimental-regexp-engine');
