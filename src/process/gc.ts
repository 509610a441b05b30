import v8 from 'node:v8';
import vm from 'node:vm';

export type Collect = (options?: { type?: 'major' | 'minor'; execution?: 'sync' }) => void;
let collect: Collect | null | undefined;

/**
 * V8's collector, callable from code: exposes `gc` on first use (a flag V8 accepts at run time;
 * the function is taken from a fresh context, which sees it). Null where V8 refuses.
 */
export function forcedGc(): Collect | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    }
  }
  return collect;
}
