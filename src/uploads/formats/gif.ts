import { BrokenImage, type FileBytes, type Structure } from './file-bytes.js';

const HEADER_BYTES = 6;
const SCREEN_DESCRIPTOR_BYTES = 7;
const IMAGE_DESCRIPTOR_BYTES = 10;
const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;

/**
 * A GIF is a header, a logical screen, then extensions and images until the trailer. Each image
 * (frame) has its own size, which may be far larger than the logical screen.
 */
export async function walkGif(bytes: FileBytes): Promise<Structure> {
  const screen = await bytes.at(HEADER_BYTES, SCREEN_DESCRIPTOR_BYTES);
  let position = HEADER_BYTES + SCREEN_DESCRIPTOR_BYTES + colorTableBytes(screen[4]!);
  const frames = [];
  for (;;) {
    const [introducer] = await bytes.at(position, 1);
    if (introducer === TRAILER) return { end: position + 1, frames };
    if (introducer === EXTENSION) {
      position = await skipSubBlocks(bytes, position + 2);
    } else if (introducer === IMAGE) {
      const descriptor = await bytes.at(position, IMAGE_DESCRIPTOR_BYTES);
      frames.push({ width: descriptor.readUInt16LE(5), height: descriptor.readUInt16LE(7) });
      // After the descriptor and its color table: the LZW minimum code size, then the data.
      position = await skipSubBlocks(bytes, position + IMAGE_DESCRIPTOR_BYTES + colorTableBytes(descriptor[9]!) + 1);
    } else {
      throw new BrokenImage('The GIF block structure is broken.');
    }
  }
}

function colorTableBytes(packed: number): number {
  return packed & 0x80 ? 3 << ((packed & 0x07) + 1) : 0;
}

/** Data sub-blocks: a length byte and that many bytes, until a zero length. */
async function skipSubBlocks(bytes: FileBytes, position: number): Promise<number> {
  for (;;) {
    const length = (bytes.peek(position, 1) ?? (await bytes.at(position, 1)))[0]!;
    position += 1 + length;
    if (length === 0) return position;
  }
}
