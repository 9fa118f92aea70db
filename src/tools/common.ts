import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config.js';
import { deadlineSignal } from '../limits/deadline.js';
import type { KubeClient } from '../kube/client.js';
import type { NodeScheduler } from '../limits/scheduler.js';
import type { Metrics } from '../metrics.js';
import type { SupportCache } from '../nodelogs/support-cache.js';

export interface ToolDeps {
  kube: KubeClient;
  scheduler: NodeScheduler;
  config: ServerConfig;
  support: SupportCache;
  metrics?: Metrics;
  now?: () => Date;
}

/** Every tool here only reads the cluster. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

/** A tool failure the model can act on: what went wrong, then what to do. */
export function errorResult(message: string, structured?: Record<string, unknown>): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }], ...(structured ? { structuredContent: structured } : {}) };
}

/** Combines the MCP request's cancellation with the per-call deadline. */
export function callSignal(extraSignal: AbortSignal, config: ServerConfig): AbortSignal {
  return deadlineSignal(config.callTimeoutMs, extraSignal);
}

/** Counts every call of a tool by outcome; a thrown error still becomes an isError result (the SDK does that). */
export function instrument<A extends unknown[]>(deps: ToolDeps, tool: string, handler: (...args: A) => Promise<CallToolResult>): (...args: A) => Promise<CallToolResult> {
  return async (...args: A) => {
    try {
      const result = await handler(...args);
      deps.metrics?.toolCalls.inc({ tool, outcome: result.isError ? 'error' : 'ok' });
      return result;
    } catch (err) {
      deps.metrics?.toolCalls.inc({ tool, outcome: 'error' });
      throw err;
    }
  };
}
