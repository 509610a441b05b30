import { BrokenImage, type FileBytes, type Structure } from './file-bytes.js';

const SIGNATURE_BYTES = 8;
// Length and type before the data, CRC after it.
const CHUNK_OVERHEAD = 12;
const MAX_CHUNK_LENGTH = 0x7fffffff;

/** A PNG is its signature and chunks, IHDR first; it ends with the IEND chunk. */
export async function walkPng(bytes: FileBytes): Promise<Structure> {
  let position = SIGNATURE_BYTES;
  for (let first = true; ; first = false) {
    const header = await bytes.at(position, 8);
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > MAX_CHUNK_LENGTH || !/^[A-Za-z]{4}$/.test(type) || first !== (type === 'IHDR')) {
      throw new BrokenImage('The PNG chunk structure is broken.');
    }
    position += CHUNK_OVERHEAD + length;
    if (type === 'IEND') return { end: position, frames: [] };
  }
}
