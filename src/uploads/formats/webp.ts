import { BrokenImage, type FileBytes, type Structure } from './file-bytes.js';

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;

/**
 * A WebP is a RIFF file: its header gives the size of everything, and its chunks (each padded to
 * an even length) must fill exactly that. Animation frames (ANMF) carry their own size.
 */
export async function walkWebp(bytes: FileBytes): Promise<Structure> {
  const end = CHUNK_HEADER_BYTES + (await bytes.at(0, RIFF_HEADER_BYTES)).readUInt32LE(4);
  const frames = [];
  let position = RIFF_HEADER_BYTES;
  while (position < end) {
    const header = await bytes.at(position, CHUNK_HEADER_BYTES);
    const size = header.readUInt32LE(4);
    if (header.toString('latin1', 0, 4) === 'ANMF') {
      const frame = await bytes.at(position + CHUNK_HEADER_BYTES, 12);
      frames.push({ width: frame.readUIntLE(6, 3) + 1, height: frame.readUIntLE(9, 3) + 1 });
    }
    position += CHUNK_HEADER_BYTES + size + (size % 2);
  }
  if (position !== end) throw new BrokenImage('The WebP chunks do not fill the size its RIFF header declares.');
  return { end, frames };
}
