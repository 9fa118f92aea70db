/**
 * Streaming Drain (He et al. 2017; follows logpai/Drain3 `drain.py`): a fixed-depth prefix tree keyed by
 * token count and the leading tokens, then a similarity scan of the clusters in one leaf. Clusters are
 * LRU-bounded so memory does not grow with input size.
 */

export const WILDCARD = '<*>';

export interface DrainOptions {
  /** Drain3 numbering (≥3): depth d routes on the first d-3 tokens below the token-count layer. */
  depth?: number;
  /** Similarity threshold 0..1. */
  sim?: number;
  maxChildren?: number;
  /** LRU cap on clusters. */
  maxClusters?: number;
  /** Called when a cluster is evicted, before it is forgotten. */
  onEvict?: (c: DrainCluster) => void;
  /** Eviction prefers clusters for which this returns false (e.g. keeps error templates longer). */
  isPrecious?: (c: DrainCluster) => boolean;
}

export interface DrainCluster {
  id: number;
  tokens: string[];
  size: number;
  /** Only messages with the same tag join (e.g. the level their header gave). */
  tag: number;
  /** Leading tokens that are routing keys (identifier, stream), not message words. */
  prefix: number;
  /** LRU clock value of the last re-queue. */
  touched: number;
  /** Free slot for the caller's per-template state. */
  data?: unknown;
}

interface Node {
  children: Map<string, Node>;
  clusters: DrainCluster[];
}

function newNode(): Node {
  return { children: new Map(), clusters: [] };
}

/**
 * Tokens that are parameters rather than the words of a message: Drain's "has a digit", and names with
 * punctuation inside ("logrotate.service:", "tzdata:all", "pam_unix(sshd:session):", "/dev/sda"): file,
 * unit, package and host names are rarely the verb that tells one event from another.
 */
function isParamLike(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
    if ((c === 46 || c === 58 || c === 47 || c === 64) && i > 0 && i < n - 1) return true;
    // key=value is a parameter, except the logfmt message field that carries the first word
    if (c === 61 && i > 0 && i < n - 1 && !(i === 3 && s.startsWith('msg')) && !(i === 7 && s.startsWith('message'))) return true;
  }
  return false;
}

// How many least-recently-used clusters eviction looks at when searching for a non-precious one.
const EVICTION_SCAN = 16;

export class TemplateMiner {
  private readonly maxNodeDepth: number;
  private readonly sim: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;
  private readonly root = new Map<number, Node>();
  /** Insertion order = recency order (oldest first): a Map gives O(1) LRU. */
  private readonly lru = new Map<number, DrainCluster>();
  private readonly leafOf = new Map<number, Node>();
  private nextId = 1;
  private tick = 0;
  private readonly touchEvery: number;
  evicted = 0;

  constructor(private readonly opts: DrainOptions = {}) {
    this.maxNodeDepth = (opts.depth ?? 4) - 2;
    this.sim = opts.sim ?? 0.4;
    this.maxChildren = opts.maxChildren ?? 100;
    this.maxClusters = opts.maxClusters ?? 1000;
    this.touchEvery = Math.max(1, Math.floor(this.maxClusters / 8));
  }

  get clusters(): IterableIterator<DrainCluster> {
    return this.lru.values();
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * Learns from one tokenized message and returns its cluster. The first `prefix` tokens are routing keys
   * (identifier, stream): the tree routes on them plus the first message word, and similarity counts
   * message words only. A cluster only takes messages with its `tag`.
   */
  add(tokens: string[], prefix = -1, tag = 0): DrainCluster {
    const route = prefix < 0 ? this.maxNodeDepth - 1 : Math.max(this.maxNodeDepth - 1, Math.min(prefix + 1, 4));
    const skip = prefix < 0 ? 0 : prefix;
    const leaf = this.search(tokens, route);
    let match: DrainCluster | undefined;
    if (leaf) match = this.fastMatch(leaf, tokens, skip, tag);
    if (match) {
      const t = match.tokens;
      // fastMatch counted the message words that agree: when all of them do (or are wildcards already),
      // only the routing keys in front can still differ.
      const upTo = this.matchedAll ? skip : t.length;
      for (let i = 0; i < upTo; i++) if (t[i] !== tokens[i] && t[i] !== WILDCARD) t[i] = WILDCARD;
      match.size++;
      // Approximate LRU: re-queue only when the cluster has drifted a good way towards the old end,
      // which saves a Map delete+set on almost every line.
      this.tick++;
      if (this.tick - match.touched > this.touchEvery) {
        match.touched = this.tick;
        this.lru.delete(match.id);
        this.lru.set(match.id, match);
      }
      return match;
    }
    const cluster: DrainCluster = { id: this.nextId++, tokens: tokens.slice(), size: 1, tag, prefix: skip, touched: ++this.tick };
    this.lru.set(cluster.id, cluster);
    this.insert(cluster, route);
    if (this.lru.size > this.maxClusters) this.evictOne(cluster);
    return cluster;
  }

  private evictOne(keep: DrainCluster): void {
    let victim: DrainCluster | undefined;
    let first: DrainCluster | undefined;
    let n = 0;
    for (const c of this.lru.values()) {
      if (c === keep) continue;
      first ??= c;
      if (!this.opts.isPrecious?.(c)) {
        victim = c;
        break;
      }
      if (++n >= EVICTION_SCAN) break;
    }
    victim ??= first;
    if (!victim) return;
    this.lru.delete(victim.id);
    this.evicted++;
    this.opts.onEvict?.(victim);
    // Leaf lists are cleaned here rather than lazily so a leaf never holds dead clusters.
    const leaf = this.leafOf.get(victim.id);
    this.leafOf.delete(victim.id);
    if (leaf) {
      const i = leaf.clusters.indexOf(victim);
      if (i >= 0) leaf.clusters.splice(i, 1);
    }
  }

  private search(tokens: string[], route: number): Node | undefined {
    let node = this.root.get(tokens.length);
    if (!node) return undefined;
    if (tokens.length === 0) return node;
    let depth = 1;
    for (const token of tokens) {
      if (depth > route || depth === tokens.length) break;
      const next: Node | undefined = node.children.get(token) ?? node.children.get(WILDCARD);
      if (!next) return undefined;
      node = next;
      depth++;
    }
    return node;
  }

  /** Set by fastMatch: every message word of the best cluster equals the tokens' or is a wildcard. */
  private matchedAll = false;

  private fastMatch(leaf: Node, tokens: string[], skip: number, tag: number): DrainCluster | undefined {
    let best: DrainCluster | undefined;
    let bestSim = -1;
    let bestParams = -1;
    let bestAll = false;
    const n = tokens.length;
    for (const c of leaf.clusters) {
      if (c.tag !== tag) continue;
      const t = c.tokens;
      let same = 0;
      let params = 0;
      for (let i = skip; i < n; i++) {
        const a = t[i];
        if (a === WILDCARD) params++;
        else if (a === tokens[i]) same++;
      }
      // A one-word message already matched its leaf's routing (the word itself, or the wildcard child).
      const sim = n <= skip + 1 ? 1 : same / (n - skip);
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
        bestAll = same + params === n - skip;
      }
    }
    this.matchedAll = bestAll;
    return best && bestSim >= this.sim ? best : undefined;
  }

  private insert(cluster: DrainCluster, route: number): void {
    const tokens = cluster.tokens;
    let node = this.root.get(tokens.length);
    if (!node) {
      node = newNode();
      this.root.set(tokens.length, node);
    }
    if (tokens.length === 0) {
      node.clusters.push(cluster);
      this.leafOf.set(cluster.id, node);
      return;
    }
    let depth = 1;
    for (const token of tokens) {
      if (depth > route || depth >= tokens.length) break;
      const children: Map<string, Node> = node.children;
      let next = children.get(token);
      if (!next) {
        const key = isParamLike(token)
          ? WILDCARD
          : children.has(WILDCARD)
            ? children.size < this.maxChildren
              ? token
              : WILDCARD
            : children.size + 1 < this.maxChildren
              ? token
              : WILDCARD;
        next = children.get(key);
        if (!next) {
          next = newNode();
          children.set(key, next);
        }
      }
      node = next;
      depth++;
    }
    node.clusters.push(cluster);
    this.leafOf.set(cluster.id, node);
  }
}
