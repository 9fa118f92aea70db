export type SupportVerdict = 'supported' | 'not supported' | 'unknown';

interface Entry {
  verdict: SupportVerdict;
  why: string;
  at: number;
}

/**
 * What this server has learnt about each node's log query support (from check_node_log_support and from
 * real queries), so list_nodes can show "yes" instead of "unknown" for nodes already seen. Bounded.
 */
export class SupportCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  set(node: string, verdict: SupportVerdict, why: string): void {
    this.entries.delete(node);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(node, { verdict, why, at: Date.now() });
  }

  get(node: string): Entry | undefined {
    const e = this.entries.get(node);
    if (e && Date.now() - e.at > this.ttlMs) {
      this.entries.delete(node);
      return undefined;
    }
    return e;
  }
}
