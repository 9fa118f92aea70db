import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config.js';
import type { KubeClient } from '../kube/client.js';
import type { RequestScheduler } from '../limits/scheduler.js';
import type { SupportCache } from './support-cache.js';

export interface ToolDeps {
  kube: KubeClient;
  scheduler: RequestScheduler;
  config: ServerConfig;
  support: SupportCache;
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
  return AbortSignal.any([extraSignal, AbortSignal.timeout(config.callTimeoutMs)]);
}
