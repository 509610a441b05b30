import { BrokenImage, type Dimensions, type FileBytes, type Structure } from './file-bytes.js';

const BOX_HEADER_BYTES = 8;
const LARGE_SIZE_BYTES = 8;
const MAX_DEPTH = 8;

/** Boxes whose contents are boxes, and how many bytes (FullBox version and flags, entry count) come first. */
const CONTAINERS: Record<string, number> = { meta: 4, iprp: 0, ipco: 0, moov: 0, trak: 0, mdia: 0, minf: 0, stbl: 0, stsd: 8 };

/**
 * An AVIF is an ISO-BMFF file: top-level boxes, each of a stated size, that together cover the
 * file exactly. Every image item's size is in an `ispe` property; every sequence track's in its
 * `av01` sample entry.
 */
export async function walkAvif(bytes: FileBytes): Promise<Structure> {
  const frames: Dimensions[] = [];
  const end = await walkBoxes(bytes, 0, bytes.size, frames, 0);
  return { end, frames };
}

async function walkBoxes(bytes: FileBytes, position: number, end: number, frames: Dimensions[], depth: number): Promise<number> {
  if (depth > MAX_DEPTH) throw broken();
  while (position < end) {
    const header = await bytes.at(position, BOX_HEADER_BYTES);
    const type = header.toString('latin1', 4, 8);
    let size = header.readUInt32BE(0);
    let payload = position + BOX_HEADER_BYTES;
    if (size === 1) {
      size = Number((await bytes.at(payload, LARGE_SIZE_BYTES)).readBigUInt64BE(0));
      payload += LARGE_SIZE_BYTES;
    }
    // A size of 0 ("to the end of the file") would make anything appended part of the image.
    if (size < payload - position || !/^[\x20-\x7e]{4}$/.test(type)) throw broken();
    const boxEnd = position + size;
    if (boxEnd > end) throw broken();
    if (Object.hasOwn(CONTAINERS, type)) {
      if ((await walkBoxes(bytes, payload + CONTAINERS[type]!, boxEnd, frames, depth + 1)) !== boxEnd) throw broken();
    } else if (type === 'ispe') {
      const property = await inside(bytes, payload + 4, 8, boxEnd);
      frames.push({ width: property.readUInt32BE(0), height: property.readUInt32BE(4) });
    } else if (type === 'av01') {
      const entry = await inside(bytes, payload + 24, 4, boxEnd);
      frames.push({ width: entry.readUInt16BE(0), height: entry.readUInt16BE(2) });
    }
    position = boxEnd;
  }
  return position;
}

/** A field of a box, which must lie within the box. */
async function inside(bytes: FileBytes, position: number, length: number, boxEnd: number): Promise<Buffer> {
  if (position + length > boxEnd) throw broken();
  return bytes.at(position, length);
}

function broken(): BrokenImage {
  return new BrokenImage('The AVIF boxes do not cover the file exactly: it is truncated, malformed or has data after its end.');
}
