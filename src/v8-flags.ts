import v8 from 'node:v8';

// User patterns run locally on file lines: let V8 switch to its linear-time engine instead of backtracking
// forever (see log-summarization.md §7). Imported first so it is set before any pattern runs.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
