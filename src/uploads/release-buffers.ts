import { Transform } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;
let collect: Collect | null | undefined;

function collector(): Collect | null {
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

/**
 * A pass-through that asks V8 for a young-generation collection every `everyBytes`. A large upload
 * arrives as thousands of short-lived socket buffers; V8 otherwise lets tens of megabytes of them
 * pile up before collecting, so peak memory would grow with the file size.
 */
export function releaseBuffers(everyBytes = 8 * 1024 * 1024): Transform {
  let since = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      since += chunk.length;
      if (since >= everyBytes) {
        since = 0;
        collector()?.({ type: 'minor', execution: 'sync' });
      }
      callback(null, chunk);
    },
  });
}
