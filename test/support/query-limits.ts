import type { QueryLimits } from '../../src/query/types.js';

/** The limits the query-model tests plan against (the server's defaults, with a 32 MiB file cap). */
export const TEST_LIMITS: QueryLimits = {
  defaultTailLines: 2000,
  defaultWindowMs: 3600_000,
  maxTailLines: 20000,
  maxWindowMs: 7 * 86400_000,
  fileTailBytes: 256 * 1024,
  maxFileBytes: 32 * 1024 * 1024,
};
