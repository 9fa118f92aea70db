/**
 * filepath-securejoin's SecureJoin over a real root directory: `..` and symlinks are resolved as if the
 * root were "/", so nothing can point outside it. Returns the resolved path relative to the root
 * ("/kubelet.log"); the caller maps it onto the real directory or onto the node's "/var/log/".
 */
import fs from 'node:fs/promises';
import path from 'node:path';

const MAX_SYMLINKS = 255;

export class SecureJoinError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** @param sep "/" on Linux; on Windows backslashes in the unsafe path are separators too. */
export async function secureJoin(root: string, unsafePath: string, windows = false): Promise<string> {
  if (unsafePath.includes('\0')) throw new SecureJoinError('invalid argument', 'EINVAL');
  let remaining = windows ? unsafePath.replace(/\\/g, '/') : unsafePath;
  let current = '';
  let links = 0;
  while (remaining !== '') {
    if (windows) remaining = remaining.replace(/^[A-Za-z]:/, '');
    const i = remaining.indexOf('/');
    const part = i < 0 ? remaining : remaining.slice(0, i);
    remaining = i < 0 ? '' : remaining.slice(i + 1);
    const next = path.posix.join('/', current, part);
    if (next === '/') { current = ''; continue; }
    const full = path.join(root, next);
    let st;
    try {
      st = await fs.lstat(full);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') { current = next; continue; }
      throw new SecureJoinError((e as Error).message, code ?? 'EIO');
    }
    if (!st.isSymbolicLink()) { current = next; continue; }
    if (++links > MAX_SYMLINKS) throw new SecureJoinError('too many levels of symbolic links', 'ELOOP');
    let dest = await fs.readlink(full);
    if (windows) dest = dest.replace(/\\/g, '/');
    remaining = dest + '/' + remaining;
    if (dest.startsWith('/')) current = '';
  }
  return path.posix.join('/', current);
}

/** The real on-disk path for a resolved root-relative path. */
export function realPath(root: string, resolved: string): string {
  return path.join(root, resolved);
}
