import fs from 'node:fs/promises';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { HttpError } from '../http/http-error.js';
import { walkAvif } from './formats/avif.js';
import { BrokenImage, FileBytes, type Dimensions, type WalkStructure } from './formats/file-bytes.js';
import { walkGif } from './formats/gif.js';
import { walkJpeg } from './formats/jpeg.js';
import { walkPng } from './formats/png.js';
import { walkWebp } from './formats/webp.js';

export interface ImageInfo {
  mimeType: string;
  extension: string;
  width: number;
  height: number;
}

/** Accepted formats: the detected type decides, never the name or the declared mimetype. */
const FORMATS: Record<string, { extension: string; walk: WalkStructure }> = {
  'image/png': { extension: 'png', walk: walkPng },
  'image/jpeg': { extension: 'jpg', walk: walkJpeg },
  'image/gif': { extension: 'gif', walk: walkGif },
  'image/webp': { extension: 'webp', walk: walkWebp },
  'image/avif': { extension: 'avif', walk: walkAvif },
};

const HEAD_BYTES = 512 * 1024;

export const ACCEPTED_TYPES = Object.keys(FORMATS);
/** The extensions stored images get (png, jpg, ...). */
export const IMAGE_EXTENSIONS = Object.values(FORMATS).map((f) => f.extension);

function unsupported(reason: string): HttpError {
  return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `${reason} Accepted: PNG, JPEG, GIF, WebP, AVIF.`, {
    details: { accepted: ACCEPTED_TYPES },
  });
}

/**
 * Reads a stored upload: its real type, its dimensions, and, by walking its format's structure,
 * that it is whole, that nothing follows its end, and that no frame exceeds the pixel limit.
 */
export async function inspectImage(file: string, maxPixels: number): Promise<ImageInfo> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw unsupported('The file is empty.');
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);

    const detected = await fileTypeFromBuffer(head);
    const format = detected && FORMATS[detected.mime];
    if (!detected || !format) throw unsupported('The file is not an image of an accepted type.');
    const frames = await walkWhole(format.walk, new FileBytes(handle, size, head));
    const { width, height } = dimensions(head);
    for (const frame of [{ width, height }, ...frames]) limitPixels(frame, maxPixels);
    return { mimeType: detected.mime, extension: format.extension, width, height };
  } finally {
    await handle.close();
  }
}

/** The image's frames, once its structure is found to end exactly where the file does. */
async function walkWhole(walk: WalkStructure, bytes: FileBytes): Promise<Dimensions[]> {
  try {
    const { end, frames } = await walk(bytes);
    if (end > bytes.size) throw new BrokenImage('The image is truncated.');
    if (end < bytes.size) throw new BrokenImage(`The image has ${bytes.size - end} bytes of other data after its end.`);
    return frames;
  } catch (error) {
    if (error instanceof BrokenImage) throw unsupported(error.message);
    throw error;
  }
}

function dimensions(head: Buffer): Dimensions {
  let found: { width?: number; height?: number };
  try {
    found = imageSize(head);
  } catch {
    throw unsupported('The image header cannot be read.');
  }
  const { width, height } = found;
  if (!width || !height) throw unsupported('The image has no dimensions.');
  return { width, height };
}

function limitPixels({ width, height }: Dimensions, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new HttpError(422, 'TOO_MANY_PIXELS', `The image (or one of its frames) is ${width}×${height} pixels; at most ${maxPixels} pixels are accepted.`, {
      details: { width, height, maxPixels },
    });
  }
}
