/**
 * `summarize` from standard input with a byte cap given on the command line, for the bench's 2 GB run:
 * the CLI's own cap (512 MiB, no flag) would stop it a quarter of the way. Same built code as
 * `node dist/index.js summarize` (dist/logs/summarize-cli.js and the V8 flags the entry point sets),
 * only the cap differs. Usage: node bench/summarize-child.mjs MAX_BYTES < log
 */
import '../dist/v8-flags.js';
import { runSummarize } from '../dist/logs/summarize-cli.js';

const maxBytes = Number(process.argv[2]);
process.exitCode = await runSummarize({ maxBytes }, { stdin: process.stdin, stdout: process.stdout });
