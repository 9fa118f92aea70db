/** Go net/http response helpers (http.Error, http.Redirect) over a Node ServerResponse. */
import type { ServerResponse } from 'node:http';
import { htmlEscape } from './goUrl.js';

/** http.Error: message + "\n", text/plain, nosniff; drops a Content-Length set earlier. */
export function httpError(res: ServerResponse, message: string, code: number): void {
  if (res.hasHeader('Content-Length')) res.removeHeader('Content-Length');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.statusCode = code;
  res.end(message + '\n');
}

/** http.Redirect with an absolute path target (the ServeMux trailing-slash and clean-path redirects). */
export function httpRedirect(res: ServerResponse, method: string, location: string, code = 301): void {
  res.setHeader('Location', location);
  res.statusCode = code;
  if (method === 'GET' || method === 'HEAD') res.setHeader('Content-Type', 'text/html; charset=utf-8');
  if (method === 'GET') res.end(`<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n`);
  else res.end();
}

/** The FileServer's localRedirect: relative Location with the query kept, no body. */
export function localRedirect(res: ServerResponse, rawQuery: string, newPath: string): void {
  res.setHeader('Location', rawQuery ? `${newPath}?${rawQuery}` : newPath);
  res.statusCode = 301;
  res.end();
}
