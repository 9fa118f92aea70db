/**
 * Go's http.FileServer(http.Dir("/var/log/")) as the kubelet mounts it under StripPrefix("/logs/"):
 * redirects to canonical paths, the HTML directory listing, Last-Modified, single and multi-part byte
 * ranges, content types by extension or sniffing, and the terse Go error bodies. Unlike http.Dir (which
 * follows symlinks anywhere), paths resolve inside the root the way securejoin does, so the sandbox can
 * never serve a file from outside varLogDir.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import path from 'node:path';
import { escapePath, goPathBase, goPathClean, htmlEscape } from './goUrl.js';
import { httpError, localRedirect } from './httpUtil.js';
import { secureJoin } from './secureJoin.js';

export interface FileServerRequest {
  method: string;
  /** r.URL.Path after StripPrefix (may be "" or lack the leading slash). */
  urlPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
}

/** mime.TypeByExtension's built-in table (node images rarely ship /etc/mime.types entries that matter here). */
const BUILTIN_TYPES: Record<string, string> = {
  '.avif': 'image/avif', '.css': 'text/css; charset=utf-8', '.gif': 'image/gif', '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8', '.jpeg': 'image/jpeg', '.jpg': 'image/jpeg', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.mjs': 'text/javascript; charset=utf-8', '.pdf': 'application/pdf', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.webp': 'image/webp', '.xml': 'text/xml; charset=utf-8',
};

/** A reduced http.DetectContentType: enough to tell text logs, HTML, gzip/zip/pdf and binary apart. */
export function sniffContentType(buf: Buffer): string {
  const head = buf.subarray(0, 512);
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'application/x-gzip';
  if (head.subarray(0, 4).toString('latin1') === 'PK\x03\x04') return 'application/zip';
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'text/plain; charset=utf-8';
  const lead = head.toString('latin1').replace(/^[\t\n\x0c\r ]+/, '').toLowerCase();
  if (/^(<!doctype html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|<style|<title|<b|<body|<br|<p|<!--)[ >]/.test(lead)) {
    return 'text/html; charset=utf-8';
  }
  if (lead.startsWith('<?xml')) return 'text/xml; charset=utf-8';
  for (const b of head) {
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return 'application/octet-stream';
  }
  return 'text/plain; charset=utf-8';
}

interface Opened {
  real: string;
  stat: import('node:fs').Stats;
}

async function openInRoot(root: string, name: string, windows: boolean): Promise<Opened | { status: number; msg: string }> {
  // http.Dir.Open: filepath.Localize rejects NUL (and on Windows, backslashes and colons).
  if (name.includes('\0') || (windows && /[\\:]/.test(name))) return { status: 500, msg: '500 Internal Server Error' };
  try {
    const resolved = await secureJoin(root, name, false);
    const real = path.join(root, resolved);
    const stat = await fs.stat(real);
    return { real, stat };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 404, msg: '404 page not found' };
    if (code === 'EACCES' || code === 'EPERM') return { status: 403, msg: '403 Forbidden' };
    return { status: 500, msg: '500 Internal Server Error' };
  }
}

function lastModified(stat: import('node:fs').Stats): string | undefined {
  const ms = stat.mtime.getTime();
  return ms <= 0 ? undefined : new Date(ms).toUTCString();
}

/** checkIfModifiedSince == condFalse: the resource is not newer than the client's copy. */
function notModified(req: FileServerRequest, stat: import('node:fs').Stats): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const ims = req.headers['if-modified-since'];
  if (!ims || stat.mtime.getTime() <= 0) return false;
  const t = Date.parse(ims);
  if (Number.isNaN(t)) return false;
  return Math.floor(stat.mtime.getTime() / 1000) * 1000 <= t;
}

interface Range {
  start: number;
  length: number;
}

/** parseRange from net/http/fs.go. */
function parseRange(s: string | undefined, size: number): Range[] | 'invalid' | 'nooverlap' | null {
  if (!s) return null;
  if (!s.startsWith('bytes=')) return 'invalid';
  const ranges: Range[] = [];
  let noOverlap = false;
  const num = (v: string) => (/^\d+$/.test(v) ? Number(v) : NaN);
  for (let ra of s.slice(6).split(',')) {
    ra = ra.trim();
    if (ra === '') continue;
    const dash = ra.indexOf('-');
    if (dash < 0) return 'invalid';
    const start = ra.slice(0, dash).trim();
    const end = ra.slice(dash + 1).trim();
    if (start === '') {
      const i = num(end);
      if (end === '' || Number.isNaN(i)) return 'invalid';
      const n = Math.min(i, size);
      ranges.push({ start: size - n, length: n });
    } else {
      const i = num(start);
      if (Number.isNaN(i)) return 'invalid';
      if (i >= size) { noOverlap = true; continue; }
      if (end === '') ranges.push({ start: i, length: size - i });
      else {
        let j = num(end);
        if (Number.isNaN(j) || i > j) return 'invalid';
        if (j >= size) j = size - 1;
        ranges.push({ start: i, length: j - i + 1 });
      }
    }
  }
  if (noOverlap && ranges.length === 0) return 'nooverlap';
  return ranges;
}

async function copyRange(res: ServerResponse, real: string, start: number, length: number): Promise<void> {
  if (length <= 0) return;
  const fh = await fs.open(real, 'r');
  try {
    const stream = fh.createReadStream({ start, end: start + length - 1, autoClose: false });
    for await (const chunk of stream) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
    }
  } finally {
    await fh.close();
  }
}

async function dirList(res: ServerResponse, real: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(real, { withFileTypes: true });
  } catch {
    httpError(res, 'Error reading directory', 500);
    return;
  }
  // Go sorts by byte order of the names.
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  let body = '<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n';
  for (const e of entries) {
    const name = e.isDirectory() ? e.name + '/' : e.name;
    body += `<a href="${escapePath(name)}">${htmlEscape(name)}</a>\n`;
  }
  body += '</pre>\n';
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.statusCode = 200;
  res.end(body);
}

/** fileHandler.ServeHTTP + serveFile(..., redirect=true). */
export async function serveFileServer(res: ServerResponse, root: string, windows: boolean, req: FileServerRequest): Promise<void> {
  let upath = req.urlPath;
  if (!upath.startsWith('/')) upath = '/' + upath;
  const name = goPathClean(upath);

  if (upath.endsWith('/index.html')) { localRedirect(res, req.rawQuery, './'); return; }

  let opened = await openInRoot(root, name, windows);
  if ('status' in opened) { httpError(res, opened.msg, opened.status); return; }

  if (opened.stat.isDirectory()) {
    if (!upath.endsWith('/')) { localRedirect(res, req.rawQuery, goPathBase(upath) + '/'); return; }
  } else if (upath.endsWith('/')) {
    const base = goPathBase(upath);
    if (base === '/' || base === '.') { httpError(res, 'http: attempting to traverse a non-directory', 500); return; }
    localRedirect(res, req.rawQuery, '../' + base);
    return;
  }

  if (opened.stat.isDirectory()) {
    const index = await openInRoot(root, name.replace(/\/$/, '') + '/index.html', windows);
    if (!('status' in index)) opened = index;
  }
  if (opened.stat.isDirectory()) {
    if (notModified(req, opened.stat)) { res.statusCode = 304; res.end(); return; }
    const lm = lastModified(opened.stat);
    if (lm) res.setHeader('Last-Modified', lm);
    await dirList(res, opened.real);
    return;
  }
  await serveContent(res, req, opened);
}

async function serveContent(res: ServerResponse, req: FileServerRequest, f: Opened): Promise<void> {
  const lm = lastModified(f.stat);
  if (lm) res.setHeader('Last-Modified', lm);
  if (notModified(req, f.stat)) { res.removeHeader('Content-Type'); res.statusCode = 304; res.end(); return; }

  let rangeHeader = req.headers.range;
  const ifRange = req.headers["if-range"] as string | undefined;
  if (rangeHeader && ifRange && (req.method === 'GET' || req.method === 'HEAD')) {
    const t = Date.parse(ifRange);
    if (ifRange.includes('"') || Number.isNaN(t) || Math.floor(t / 1000) !== Math.floor(f.stat.mtime.getTime() / 1000)) rangeHeader = undefined;
  }

  let ctype = BUILTIN_TYPES[path.extname(f.real).toLowerCase()];
  if (!ctype) {
    const fh = await fs.open(f.real, 'r');
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await fh.read(buf, 0, 512, 0);
      ctype = sniffContentType(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }
  res.setHeader('Content-Type', ctype);

  const size = f.stat.size;
  let ranges = parseRange(rangeHeader, size);
  if (ranges === 'nooverlap' && size === 0) ranges = null;
  if (ranges === 'nooverlap' || ranges === 'invalid') {
    // Since Go 1.23 error replies from ServeContent drop the validators set before the error.
    res.removeHeader('Last-Modified');
    if (ranges === 'nooverlap') res.setHeader('Content-Range', `bytes */${size}`);
    httpError(res, ranges === 'nooverlap' ? 'invalid range: failed to overlap' : 'invalid range', 416);
    return;
  }
  if (ranges && ranges.reduce((n, r) => n + r.length, 0) > size) ranges = null;

  res.setHeader('Accept-Ranges', 'bytes');
  const head = req.method === 'HEAD';
  if (ranges && ranges.length === 1) {
    const r = ranges[0]!;
    res.setHeader('Content-Range', `bytes ${r.start}-${r.start + r.length - 1}/${size}`);
    res.setHeader('Content-Length', String(r.length));
    res.writeHead(206);
    if (!head) await copyRange(res, f.real, r.start, r.length);
    res.end();
    return;
  }
  if (ranges && ranges.length > 1) {
    const boundary = randomBytes(30).toString('hex').slice(0, 60);
    const parts = ranges.map((r, i) =>
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Range: bytes ${r.start}-${r.start + r.length - 1}/${size}\r\nContent-Type: ${ctype}\r\n\r\n`);
    const closing = `\r\n--${boundary}--\r\n`;
    const total = parts.reduce((n, p) => n + Buffer.byteLength(p), 0) + ranges.reduce((n, r) => n + r.length, 0) + closing.length;
    res.setHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
    res.setHeader('Content-Length', String(total));
    res.writeHead(206);
    if (!head) {
      for (let i = 0; i < ranges.length; i++) {
        res.write(parts[i]!);
        await copyRange(res, f.real, ranges[i]!.start, ranges[i]!.length);
      }
      res.write(closing);
    }
    res.end();
    return;
  }
  res.setHeader('Content-Length', String(size));
  res.writeHead(200);
  if (!head) await copyRange(res, f.real, 0, size);
  res.end();
}
