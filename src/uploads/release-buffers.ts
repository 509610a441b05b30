import { Transform } from 'node:stream';
import { forcedGc } from '../process/gc.js';

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
        forcedGc()?.({ type: 'minor', execution: 'sync' });
      }
      callback(null, chunk);
    },
  });
}
