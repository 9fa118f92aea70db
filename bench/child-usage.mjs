/**
 * Preloaded into the bench's child processes (`node --import bench/child-usage.mjs …`): at exit, writes
 * the process's own CPU time and peak RSS (getrusage: every thread, the whole lifetime) as one JSON line
 * to the file descriptor named by KNL_BENCH_USAGE_FD. A parent cannot read a child's rusage from Node
 * (no wait4), and /proc/<pid>/stat read just before exit races the exit; this has neither problem and
 * leaves the program under test as users run it.
 */
import { writeSync } from 'node:fs';

const fd = Number(process.env.KNL_BENCH_USAGE_FD);
if (Number.isInteger(fd) && fd > 2) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // userCPUTime/systemCPUTime in microseconds, maxRSS in KiB.
    writeSync(fd, `${JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKiB: u.maxRSS })}\n`);
  });
}
