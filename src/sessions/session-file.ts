import fs from 'node:fs';
import { promisify } from 'node:util';

/** A session file's text, or why there is none. `version` changes whenever the file does. */
export type SessionFileText = { text: string; version: string } | 'missing' | 'unreadable';

// The callback API costs fewer threadpool round trips than fs/promises on the hot path.
const lstat = promisify(fs.lstat);
const open = promisify(fs.open);
const fstat = promisify(fs.fstat);
const read = promisify(fs.read);
const close = promisify(fs.close);

// Never through a link (another user's file); never blocked by a FIFO (O_NONBLOCK only matters there).
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

export const versionOf = (stat: fs.Stats): string => `${stat.ino}:${stat.mtimeMs}:${stat.size}`;

/** The version of what is at `file` now, or 'missing' / 'unreadable' (not a regular file, or too large). */
export async function sessionFileVersion(file: string, maxBytes: number): Promise<string | 'missing' | 'unreadable'> {
  try {
    const stat = await lstat(file);
    return stat.isFile() && stat.size <= maxBytes ? versionOf(stat) : 'unreadable';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/** Reads a regular file of at most `maxBytes`; links, FIFOs, directories and larger files are 'unreadable'. */
export async function readSessionFile(file: string, maxBytes: number): Promise<SessionFileText> {
  let fd: number;
  try {
    fd = await open(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ELOOP') return 'unreadable';
    throw error;
  }
  try {
    const stat = await fstat(fd);
    if (!stat.isFile() || stat.size > maxBytes) return 'unreadable';
    const buffer = Buffer.allocUnsafe(stat.size);
    const { bytesRead } = await read(fd, buffer, 0, stat.size, 0);
    return { text: buffer.toString('utf8', 0, bytesRead), version: versionOf(stat) };
  } finally {
    await close(fd).catch(() => undefined);
  }
}
