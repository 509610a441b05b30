import { BrokenImage, type Dimensions, type FileBytes, type Structure } from './file-bytes.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP2 = 0xe2;
const TEM = 0x01;
const STUFFED = 0x00;

const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;
// SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC): the segments that give a frame's size.
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * A JPEG is SOI, then marker segments, each scan (SOS) followed by its entropy-coded data, up to
 * the EOI that follows them. A primary image that declares more pictures (a Multi-Picture Format
 * APP2 segment, as phones write for gain maps and stereo pairs) may be followed by further
 * complete JPEGs, each walked the same way.
 */
export async function walkJpeg(bytes: FileBytes): Promise<Structure> {
  const frames: Dimensions[] = [];
  const primary = await walkOne(bytes, 0, frames);
  let end = primary.end;
  while (primary.multiPicture && end + 2 <= bytes.size && (await bytes.at(end, 2)).readUInt16BE(0) === 0xff00 + SOI) {
    end = (await walkOne(bytes, end, frames)).end;
  }
  return { end, frames };
}

async function walkOne(bytes: FileBytes, position: number, frames: Dimensions[]): Promise<{ end: number; multiPicture: boolean }> {
  if ((await bytes.at(position, 2)).readUInt16BE(0) !== 0xff00 + SOI) throw broken();
  position += 2;
  let multiPicture = false;
  for (;;) {
    if ((await bytes.at(position, 1))[0] !== 0xff) throw broken();
    // Any number of 0xFF fill bytes may precede a marker.
    let marker = 0xff;
    while (marker === 0xff) marker = (await bytes.at(++position, 1))[0]!;
    position += 1;
    if (marker === EOI) return { end: position, multiPicture };
    if (isRestart(marker) || marker === TEM) continue;
    if (marker === SOI || marker === STUFFED) throw broken();
    const length = (await bytes.at(position, 2)).readUInt16BE(0);
    if (length < 2) throw broken();
    if (isStartOfFrame(marker)) {
      const frame = await bytes.at(position, 7);
      frames.push({ height: frame.readUInt16BE(3), width: frame.readUInt16BE(5) });
    }
    if (marker === APP2 && length >= 6 && (await bytes.at(position + 2, 4)).toString('latin1') === 'MPF\0') multiPicture = true;
    position += length;
    if (marker === SOS) position = await skipEntropyCoded(bytes, position);
  }
}

/** Scan data runs until a marker: 0xFF followed by anything but a stuffed zero or a restart. */
async function skipEntropyCoded(bytes: FileBytes, position: number): Promise<number> {
  for (;;) {
    const found = bytes.peekIndexOf(0xff, position) ?? (await bytes.indexOf(0xff, position));
    if (found === -1) throw new BrokenImage('The image is truncated.');
    const next = (bytes.peek(found, 2) ?? (await bytes.at(found, 2)))[1]!;
    if (next !== STUFFED && !isRestart(next)) return found;
    position = found + 2;
  }
}

function broken(): BrokenImage {
  return new BrokenImage('The JPEG marker structure is broken.');
}
