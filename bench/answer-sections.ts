/**
 * Splits a query_node_logs answer into sections by its line shapes, for the answers benchmark and the
 * answer-quality tests. Knows both the layout before issue 12 (a template table outside the block,
 * "[T1]"/"[T1 e.g.]" lines and "-- most recent lines" inside) and the current one ("[T1 error ×3 …]"
 * labels, "  e.g." examples, a "-- recent" part, "[T1] line" plain lines).
 */
export const SECTIONS = ['facts', 'templates', 'examples', 'recent', 'lines', 'notices', 'frame'] as const;
export type Section = (typeof SECTIONS)[number];

export function sectionSizes(text: string): Record<Section, number> {
  const out = Object.fromEntries(SECTIONS.map((s) => [s, 0])) as Record<Section, number>;
  const lines = text.split('\n');
  const open = lines.findIndex((l) => /^<untrusted-node-log boundary="/.test(l));
  const close = lines.findIndex((l) => /^<\/untrusted-node-log boundary="/.test(l));
  const preface = open === -1 ? -1 : lines.findIndex((l) => /^(The block below is raw|Raw node log below)/.test(l));
  const oldTable = lines.some((x) => /^Templates, most important first/.test(x));
  let inRecent = false;
  let tableStarted = false;
  let prev: Section = 'facts';
  lines.forEach((l, i) => {
    const n = l.length + 1;
    let s: Section;
    if (open !== -1 && i > open && (close === -1 || i < close) && /^ {2}↳ /.test(l)) s = prev; // a record's continuation line
    else if (open !== -1 && ((preface !== -1 && i >= preface && i <= open) || i === close)) s = 'frame';
    else if (open === -1 || i < open) {
      if (/^Templates, most important first/.test(l)) tableStarted = true;
      s = tableStarted && /^(Templates, most important|T\d+ {2})/.test(l) ? 'templates' : /^(Not shown|Left out)/.test(l) ? 'notices' : 'facts';
    } else if (close !== -1 && i > close) s = 'notices';
    else if (/^-- (most )?recent/.test(l) || inRecent) {
      inRecent = true;
      s = 'recent';
    } else if (/^\[T\d+ e\.g\.\]|^ {2}e\.g\. /.test(l)) s = 'examples';
    else if (/^\[T\d+ (fatal|error|warning|info|debug|unknown)\b/.test(l)) s = 'templates';
    else if (/^\[T\d+\] /.test(l) && oldTable) s = 'templates';
    else s = 'lines';
    out[s] += n;
    prev = s;
  });
  return out;
}
