import { describe, expect, it } from 'vitest';
import { validateNodeLogQuery } from '../src/query/validate.js';
import type { NodeLogQueryInput, NodeOs, QueryLimits, ValidationIssue } from '../src/query/types.js';
import { TEST_LIMITS } from './support/query-limits.js';

const limits: QueryLimits = TEST_LIMITS;
const v = (input: Partial<NodeLogQueryInput> & Record<string, unknown>, os: NodeOs = 'linux'): ValidationIssue[] =>
  validateNodeLogQuery(input as NodeLogQueryInput, { os, limits });

describe('validateNodeLogQuery: accepted input (kubelet_server_journal_test.go cases)', () => {
  it.each<[string, Partial<NodeLogQueryInput>, NodeOs?]>([
    ['one service', { query: 'kubelet' }],
    ['services with . _ @ :', { query: ['svc.foo', 'svc_foo', 'svc@foo', 'svc:foo'] }],
    ['boot 0', { query: 'kubelet', boot: 0 }],
    ['boot -1 on linux', { query: 'kubelet', boot: -1 }],
    ['boot -23 (no lower bound)', { query: 'kubelet', boot: -23 }],
    ['boot on unknown OS', { query: 'kubelet', boot: -1 }, 'unknown'],
    ['tailLines 100', { query: 'kubelet', tailLines: 100 }],
    ['tailLines 100000 (inclusive)', { query: 'kubelet', tailLines: 100000 }],
    ['tailLines 0', { query: 'kubelet', tailLines: 0 }],
    ['tailLines above the server max (clamped later, not an error)', { query: 'kubelet', tailLines: 50000 }],
    ['equal since and until', { query: 'kubelet', sinceTime: '2026-01-01T00:00:00Z', untilTime: '2026-01-01T01:00:00+01:00' }],
    ['fractional seconds and offsets', { query: 'kubelet', sinceTime: '2026-01-01T00:00:00.5+05:30', untilTime: '2026-01-01T00:00:00.123456789Z' }],
    ['tailLines with times, pattern and boot', { query: 'kubelet', tailLines: 5, pattern: 'container', boot: 0, sinceTime: '2026-01-01T00:00:00Z' }],
    ['duplicate services', { query: ['kubelet', 'kubelet', 'kubelet', 'kubelet', 'kubelet'] }],
    ['blank values dropped next to a real one', { query: ['  ', 'kubelet'] }],
    ['a file', { query: '/kube-apiserver.log' }],
    ['a file with a backslash', { query: '\\kube-apiserver.log' }],
    ['a nested file', { query: '/pods/ns_pod_uid/c/0.log' }],
    ['a file with locally applied options', { query: '/kube-apiserver.log', pattern: 'error', tailLines: 10, sinceTime: '2026-01-01T00:00:00Z', untilTime: '2026-01-02T00:00:00Z' }],
    ['Windows provider', { query: 'Microsoft-Windows-Security-SPP', tailLines: 3, pattern: 'Health' }, 'windows'],
    ['empty-string options count as absent', { query: 'kubelet', pattern: '', sinceTime: '' }],
    ['Go-valid pattern', { query: 'kubelet', pattern: '(?i)err(or)?\\b.*\\d{2,3}' }],
  ])('%s', (_name, input, os) => {
    expect(v(input, os)).toEqual([]);
  });
});

describe('validateNodeLogQuery: rejected input with actionable messages', () => {
  it.each<[string, Record<string, unknown>, string, RegExp, RegExp, NodeOs?]>([
    ['empty query', { query: '' }, 'query', /query cannot be empty/, /service name|\/kube-apiserver\.log/],
    ['blank-only query', { query: ['  ', '  '] }, 'query', /must not be blank/, /"kubelet"/],
    ['empty query with options', { query: [], tailLines: 3 }, 'query', /query cannot be empty/, /service/],
    ['missing query', { tailLines: 3 }, 'query', /required/, /service/],
    ['service with newline', { query: 'svc\n' }, 'query', /unsupported characters/, /without spaces/],
    ['service with space', { query: 'kubelet error' }, 'query', /space/, /pattern/],
    ['leading space', { query: ' kubelet' }, 'query', /unsupported characters/, /bare unit/],
    ['400-char service', { query: 'a'.repeat(400) }, 'query', /400 bytes.*at most 256.*less than 100/, /unit name/],
    ['5 services', { query: ['a', 'b', 'c', 'd', 'e'] }, 'query', /5 services.*at most 4/, /at most 4 each/],
    ['service and file', { query: ['foo', '/bar'] }, 'query', /cannot specify a file and service/, /one call/],
    ['two files', { query: ['/foo', '\\bar'] }, 'query', /cannot specify more than one file/, /one call per file/],
    ['file with boot', { query: '/x.log', boot: 0 }, 'boot', /cannot be applied to a file.*cannot specify file with options/, /Leave boot out/],
    ['/var/log prefix', { query: '/var/log/kubelet.log' }, 'query', /relative to \/var\/log/, /Use "\/kubelet\.log"/],
    ['var/log prefix with backslashes', { query: '\\var\\log\\pods\\x.log' }, 'query', /relative to \/var\/log/, /"\/pods\/x\.log"/],
    ['invalid pattern', { query: 'kubelet', pattern: 'foo\\' }, 'pattern', /trailing backslash at end of expression: ``/, /escape/],
    ['backreference', { query: 'kubelet', pattern: '(a)\\1' }, 'pattern', /invalid escape sequence: `\\1`/, /backreferences/],
    ['lookahead', { query: 'kubelet', pattern: 'a(?=b)' }, 'pattern', /invalid or unsupported Perl syntax: `\(\?=`/, /lookarounds/],
    ['overlong pattern', { query: 'kubelet', pattern: 'a'.repeat(1025) }, 'pattern', /1025 characters/, /shorter/],
    ['since after until', { query: 'kubelet', sinceTime: '2026-01-02T00:00:00Z', untilTime: '2026-01-01T00:00:00Z' }, 'untilTime', /before sinceTime.*must be after `sinceTime`/, /Swap/],
    ['since after until by a fraction', { query: 'kubelet', sinceTime: '2026-01-01T00:00:00.0000001Z', untilTime: '2026-01-01T00:00:00Z' }, 'untilTime', /before sinceTime/, /Swap/],
    ['space instead of T', { query: 'kubelet', sinceTime: '2026-01-01 00:00:00Z' }, 'sinceTime', /not an RFC 3339.*invalid time format/, /"T"/],
    ['missing zone', { query: 'kubelet', untilTime: '2026-01-01T00:00:00' }, 'untilTime', /invalid time format/, /zone/],
    ['impossible date', { query: 'kubelet', sinceTime: '2023-02-29T00:00:00Z' }, 'sinceTime', /invalid time format/, /date must exist/],
    ['hour 24', { query: 'kubelet', sinceTime: '2026-01-01T24:00:00Z' }, 'sinceTime', /invalid time format/, /YYYY/],
    ['lowercase z', { query: 'kubelet', sinceTime: '2026-01-01T00:00:00z' }, 'sinceTime', /invalid time format/, /YYYY/],
    ['boot 1', { query: 'kubelet', boot: 1 }, 'boot', /must be less than 1/, /-1 for the previous/],
    ['boot on Windows', { query: 'Microsoft-Windows-Security-SPP', boot: -1 }, 'boot', /boot is not supported on Windows/, /sinceTime/, 'windows'],
    ['boot 0 on Windows', { query: 'svc', boot: 0 }, 'boot', /not supported on Windows/, /Leave boot out/, 'windows'],
    ['tailLines -1', { query: 'kubelet', tailLines: -1 }, 'tailLines', /must be between 0 and 100000, inclusive/, /0 to 100000/],
    ['tailLines 100001', { query: 'kubelet', tailLines: 100001 }, 'tailLines', /must be between 0 and 100000/, /0 to 100000/],
    ['tailLines non-integer', { query: 'kubelet', tailLines: 1.5 }, 'tailLines', /whole number.*Atoi/, /integer/],
    ['tailLines string "foo"', { query: 'kubelet', tailLines: 'foo' }, 'tailLines', /whole number, got "foo"/, /integer/],
    ['boot string " "', { query: 'kubelet', boot: ' ' }, 'boot', /whole number/, /≤ 0/],
    ['Windows provider with space', { query: 'Microsoft Windows' }, 'query', /unsupported characters/, /provider/, 'windows'],
  ])('%s', (_name, input, field, message, fix, os) => {
    const issues = v(input, os ?? 'linux');
    expect(issues.length).toBeGreaterThan(0);
    const hit = issues.find((i) => i.field === field && message.test(i.message));
    expect(hit, JSON.stringify(issues, null, 1)).toBeDefined();
    expect(hit!.fix).toMatch(fix);
  });

  it('reports several problems at once', () => {
    const issues = v({ query: 'kubelet', tailLines: -5, boot: 2, pattern: '(' });
    expect(issues.map((i) => i.field).sort()).toEqual(['boot', 'pattern', 'tailLines']);
  });
});

describe('file path traversal in every spelling', () => {
  it.each([
    '/../etc/passwd',
    '/pods/../../etc/shadow',
    '..\\..\\windows\\system32',
    '/foo/..',
    '/%2e%2e/etc/passwd',
    '/%2E%2E%2Fetc%2Fpasswd',
    '/.%2e/x',
    '/pods%2f..%2fsecret',
    '/a/%5c..%5cb',
    '/\uff0e\uff0e/etc/passwd',
    '/... /x',
    '/x..log',
  ])('%j is refused', (file) => {
    const issues = v({ query: file });
    expect(issues).toHaveLength(1);
    expect(issues[0].field).toBe('query');
    expect(issues[0].message).toMatch(/"\.\."|percent-encoding/);
  });

  it.each([
    ['C:\\var\\log\\kubelet.log', /Windows drive/],
    ['c:/x.log', /Windows drive/],
    ['\\\\server\\share\\x.log', /UNC/],
    ['/x\u0000.log', /control character/],
    ['/x\n.log', /control character/],
    ['/x\u0085.log', /control character/],
    ['/x\ud800.log', /lone surrogate/],
    ['/' + 'a'.repeat(1100), /1101 characters/],
  ])('%j is refused', (file, message) => {
    const issues = v({ query: file });
    expect(issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});

describe('names and patterns that are unsafe locally', () => {
  it('refuses dot-only and ".." service names, which the kubelet would join to /var/log', () => {
    for (const q of ['.', '..', '...', 'a..b', '..kubelet']) {
      const issues = validateNodeLogQuery({ query: q }, { os: 'linux', limits });
      expect(issues.map((i) => i.message).join(' '), q).toMatch(/path component/);
    }
    expect(validateNodeLogQuery({ query: 'svc.foo' }, { os: 'linux', limits })).toEqual([]);
  });

  it('refuses a file pattern that would need the u flag locally, but not the same pattern for a service', () => {
    expect(validateNodeLogQuery({ query: '/syslog', pattern: '\\pL+' }, { os: 'linux', limits }).map((i) => i.field)).toEqual(['pattern']);
    expect(validateNodeLogQuery({ query: 'kubelet', pattern: '\\pL+' }, { os: 'linux', limits })).toEqual([]);
  });
});
