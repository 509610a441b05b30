import fs from 'node:fs/promises';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { HttpError } from '../http/http-error.js';

export interface ImageInfo {
  mimeType: string;
  extension: string;
  width: number;
  height: number;
}

/** Accepted formats: the detected type decides, never the name or the declared mimetype. */
const FORMATS: Record<string, { extension: string; complete: (head: Buffer, tail: Buffer, size: number) => boolean }> = {
  'image/png': { extension: 'png', complete: (_h, tail) => tail.subarray(-8).equals(PNG_IEND_TAIL) },
  'image/jpeg': { extension: 'jpg', complete: (_h, tail) => endsWithJpegEoi(tail) },
  'image/gif': { extension: 'gif', complete: (_h, tail) => tail[tail.length - 1] === 0x3b },
  'image/webp': { extension: 'webp', complete: (head, _t, size) => riffSize(head) === size },
  'image/avif': { extension: 'avif', complete: (head, _t, size) => head.length >= 8 && head.readUInt32BE(0) <= size },
};

// "IEND" followed by its CRC: the last 8 bytes of every complete PNG.
const PNG_IEND_TAIL = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const HEAD_BYTES = 512 * 1024;
const TAIL_BYTES = 1024;

export const ACCEPTED_TYPES = Object.keys(FORMATS);

function unsupported(reason: string): HttpError {
  return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `${reason} Accepted: PNG, JPEG, GIF, WebP, AVIF.`, {
    details: { accepted: ACCEPTED_TYPES },
  });
}

/** Reads a stored upload's header and tail: its real type, its dimensions, and that it is whole. */
export async function inspectImage(file: string, maxPixels: number): Promise<ImageInfo> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw unsupported('The file is empty.');
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
    await handle.read(tail, 0, tail.length, size - tail.length);

    const detected = await fileTypeFromBuffer(head);
    const format = detected && FORMATS[detected.mime];
    if (!detected || !format) throw unsupported('The file is not an image of an accepted type.');
    if (!format.complete(head, tail, size)) throw unsupported('The image is truncated or has data after its end.');

    let dimensions: { width?: number; height?: number };
    try {
      dimensions = imageSize(head);
    } catch {
      throw unsupported('The image header cannot be read.');
    }
    const { width, height } = dimensions;
    if (!width || !height) throw unsupported('The image has no dimensions.');
    if (width * height > maxPixels) {
      throw new HttpError(422, 'TOO_MANY_PIXELS', `The image is ${width}×${height} pixels; at most ${maxPixels} pixels are accepted.`, {
        details: { width, height, maxPixels },
      });
    }
    return { mimeType: detected.mime, extension: format.extension, width, height };
  } finally {
    await handle.close();
  }
}

function endsWithJpegEoi(tail: Buffer): boolean {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 0x00 || tail[end - 1] === 0x0a || tail[end - 1] === 0x0d)) end -= 1;
  return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9;
}

function riffSize(head: Buffer): number {
  if (head.length < 12) return -1;
  const declared = head.readUInt32LE(4) + 8;
  return declared + (declared % 2);
}
