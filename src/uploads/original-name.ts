const MAX_LENGTH = 200;
// C0/C1 controls, and the bidirectional overrides that make "gpj.exe" display as "exe.jpg".
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The client's file name, fit for display: no path, no control characters, bounded length. */
export function displayName(original: string | undefined): string {
  const base = (original ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(UNSAFE, '').trim();
  const bounded = Array.from(clean).slice(0, MAX_LENGTH).join('');
  return bounded === '' || bounded === '.' || bounded === '..' ? 'image' : bounded;
}
