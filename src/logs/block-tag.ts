/**
 * Text that could pass for the answer's own untrusted-data block (render/untrusted.ts): its tag spelled in
 * any case, with separators, compatibility letters, combining marks or look-alike letters of other scripts,
 * and the block's per-answer boundary. Below the renderer because node-reported fields (kube/) and file
 * listings (nodelogs/) are defused the same way before they reach it.
 */
import { canonicalText } from './canonical.js';

/** The tag of the block that carries log text in an answer. */
export const BLOCK_TAG = 'untrusted-node-log';

// Tag look-alikes: the tag name with any case, separators or compatibility forms (fullwidth letters).
// Separators: space, underscore, dashes, dots and middle dots, colons, slashes.
const TAG_LOOKALIKE = /untrusted[\s_\-‐-―−﹣－.·•∙‧:/\\]*node[\s_\-‐-―−﹣－.·•∙‧:/\\]*log/gi;

// Letters from other scripts that render like the Latin letters of the tag name (Unicode confusables; NFKC
// does not fold these). One UTF-16 unit each, so positions in the skeleton are positions in the line.
const CONFUSABLE: Record<string, string> = {
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', і: 'i', ѕ: 's', ԁ: 'd', ӏ: 'l', һ: 'h', ո: 'n', ս: 'u',
  ο: 'o', ν: 'v', τ: 't', υ: 'u', ι: 'i', ε: 'e', ρ: 'p', α: 'a', ɑ: 'a', ɡ: 'g', ɩ: 'i', ⅼ: 'l', ⅰ: 'i', ℓ: 'l',
  Т: 'T', Е: 'E', О: 'O', Р: 'P', С: 'C', Х: 'X', Ν: 'N', Τ: 'T', Ο: 'O', Ε: 'E',
  // Armenian and small capitals.
  օ: 'o', ց: 'g', ռ: 'n', ᴜ: 'u', ɴ: 'n', ᴛ: 't', ʀ: 'r', ꜱ: 's', ᴇ: 'e', ᴅ: 'd', ᴏ: 'o', ʟ: 'l', ɢ: 'g',
};

/** Compatibility forms folded (NFKD) and combining marks dropped: "u\u0301ntrusted" reads as "untrusted". */
function foldMarks(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').normalize('NFC');
}

function skeleton(s: string): string {
  let out = '';
  for (const ch of s) out += ch.length === 1 ? (CONFUSABLE[ch] ?? ch) : ch;
  return out;
}

/** Replaces tag look-alikes spelled with confusable letters, found on a skeleton of the line. */
function defuseConfusables(s: string): string {
  const skel = skeleton(s);
  if (skel === s || skel.length !== s.length) return s;
  const ranges: [number, number][] = [];
  for (const m of skel.matchAll(TAG_LOOKALIKE)) ranges.push([m.index!, m.index! + m[0].length]);
  for (let i = ranges.length - 1; i >= 0; i--) s = s.slice(0, ranges[i]![0]) + '[log-block-tag]' + s.slice(ranges[i]![1]);
  return s;
}

/**
 * Makes one line safe to place inside the block: sanitized, the boundary and tag look-alikes defused.
 * NFKC folds fullwidth and other compatibility letters before the check, so they cannot spell the tag.
 */
export function escapeBlockLine(line: string, boundary: string): string {
  let s = canonicalText(line);
  if (/[^\x00-\x7f]/.test(s)) {
    // Fullwidth and other compatibility letters, and letters carrying combining marks, cannot spell the tag:
    // when the folded line shows one (or the boundary), the folded line is what goes out.
    const folded = foldMarks(s);
    TAG_LOOKALIKE.lastIndex = 0;
    if (folded !== s && (TAG_LOOKALIKE.test(folded) || TAG_LOOKALIKE.test(skeleton(folded)) || (boundary && folded.toLowerCase().includes(boundary)))) s = folded;
  }
  TAG_LOOKALIKE.lastIndex = 0;
  s = s.replace(TAG_LOOKALIKE, '[log-block-tag]');
  if (/[^\x00-\x7f]/.test(s)) s = defuseConfusables(s);
  if (boundary && s.toLowerCase().includes(boundary.toLowerCase())) {
    s = s.split(new RegExp(boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi')).join('[boundary]');
  }
  return s;
}

