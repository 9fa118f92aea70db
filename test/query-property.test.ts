import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkGoRegexp, goRegexpToJs } from '../src/query/go-regexp.js';
import { planLogRequest } from '../src/query/plan.js';
import { validateNodeLogQuery } from '../src/query/validate.js';
import type { NodeLogQueryInput, NodeOs, QueryLimits } from '../src/query/types.js';
import { TEST_LIMITS } from './support/query-limits.js';

const limits: QueryLimits = TEST_LIMITS;

// Strings biased toward the characters that matter here.
const pathy = fc.stringMatching(/^[a-z./\\%2eEfF5cC:\u0000\n \uff0e-]{0,24}$/);
const anyString = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), pathy, fc.constantFrom('kubelet', '/x.log', '..', '/var/log/a', 'C:\\x'));
const anyValue = fc.oneof(anyString, fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null), fc.boolean(), fc.array(anyString, { maxLength: 3 }));
const regexChars = fc.stringMatching(/^[a-zA-Z0-9()[\]{}?*+|^$.\\:<>=!PpQEdswbzAx,\-#iUms]{0,16}$/);

const input = fc.record(
  {
    query: fc.oneof(anyString, fc.array(anyString, { maxLength: 6 }), anyValue),
    pattern: fc.oneof(regexChars, anyValue),
    sinceTime: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), anyValue),
    untilTime: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), anyValue),
    tailLines: fc.oneof(fc.integer({ min: -10, max: 200000 }), anyValue),
    boot: fc.oneof(fc.integer({ min: -5, max: 2 }), anyValue),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<NodeLogQueryInput>;
const os = fc.constantFrom<NodeOs>('linux', 'windows', 'unknown');

describe('properties', () => {
  it('never throws; file plans never carry ".." or options; journal plans are bounded', () => {
    fc.assert(
      fc.property(input, os, fc.oneof(fc.constant('worker-1'), fc.string({ maxLength: 10 })), (q, o, node) => {
        validateNodeLogQuery(q, { os: o, limits });
        const r = planLogRequest(node, q, { os: o, limits, now: new Date('2026-11-27T12:00:00Z') });
        if (!r.ok) {
          expect(r.issues.length).toBeGreaterThan(0);
          return;
        }
        const p = r.plan;
        const qs = p.path.slice(p.path.indexOf('?') + 1);
        expect(p.path.startsWith(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/logs/`)).toBe(true);
        if (p.kind === 'file') {
          expect(p.file).not.toContain('..');
          expect(decodeURIComponent(p.path)).not.toContain('..');
          // Fetched by path: no query string, so no option can reach the kubelet.
          expect(p.path).not.toContain('?');
          expect(p.file.startsWith('/')).toBe(true);
          expect(p.tail.lines).toBeLessThanOrEqual(limits.maxTailLines);
        } else {
          const keys = [...new URLSearchParams(qs).keys()];
          expect(keys.includes('tailLines') || keys.includes('sinceTime')).toBe(true);
          expect(Number(p.params.get('tailLines') ?? 0)).toBeLessThanOrEqual(limits.maxTailLines);
          expect(p.services.length).toBeGreaterThan(0);
          expect(p.services.length).toBeLessThanOrEqual(4);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('checkGoRegexp never throws, and whatever it accepts translates to a JS RegExp', () => {
    fc.assert(
      fc.property(fc.oneof(regexChars, fc.string({ maxLength: 20 })), (pattern) => {
        const r = checkGoRegexp(pattern);
        if (r.ok) {
          const re = goRegexpToJs(pattern, { smartCase: true });
          re.test('some log line with Error 123');
        } else {
          expect(r.message).toMatch(/^error parsing regexp: [a-zA-Z0-9 )\]-]+: `/);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
