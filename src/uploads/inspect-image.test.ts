import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/http-error.js';
import { tempDir } from '../../test/support/harness.js';
import { GIF_1X1, GIF_PHP_POLYGLOT, HTML_PHP, SVG_WITH_SCRIPT, WEBP_1X1, ZIP_BYTES, animatedWebp, avif, gif, jpg, multiPictureJpeg, png } from '../../test/support/images.js';
import { inspectImage } from './inspect-image.js';
import { displayName } from './original-name.js';

async function inspect(bytes: Buffer, maxPixels = 40_000_000) {
  const file = path.join(await tempDir(), 'upload.bin');
  await fs.writeFile(file, bytes);
  return inspectImage(file, maxPixels);
}

async function rejection(bytes: Buffer, maxPixels?: number): Promise<HttpError> {
  const error = await inspect(bytes, maxPixels).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe('inspectImage', () => {
  it.each([
    ['PNG', png(3, 2), 'image/png', 'png', 3, 2],
    ['JPEG', jpg(5, 4), 'image/jpeg', 'jpg', 5, 4],
    ['GIF', GIF_1X1, 'image/gif', 'gif', 1, 1],
    ['WebP', WEBP_1X1, 'image/webp', 'webp', 1, 1],
    ['AVIF', avif({ width: 6, height: 4 }), 'image/avif', 'avif', 6, 4],
    ['animated WebP', animatedWebp({ width: 8, height: 8 }, { width: 4, height: 4 }), 'image/webp', 'webp', 8, 8],
    ['JPEG followed by the further pictures it declares (MPF)', multiPictureJpeg(), 'image/jpeg', 'jpg', 4, 4],
  ])('recognises a %s by its bytes, with its dimensions', async (_name, bytes, mimeType, extension, width, height) => {
    expect(await inspect(bytes)).toEqual({ mimeType, extension, width, height });
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['plain text', Buffer.from('just some text, not an image')],
    ['an SVG with a script', SVG_WITH_SCRIPT],
    ['an HTML/PHP page', HTML_PHP],
    ['a GIF with PHP appended', GIF_PHP_POLYGLOT],
    ['a ZIP archive', ZIP_BYTES],
    ['a truncated PNG', png(16, 16).subarray(0, 60)],
    ['a truncated JPEG', jpg(16, 16).subarray(0, 200)],
    ['a truncated WebP', WEBP_1X1.subarray(0, 30)],
  ])('refuses %s with 415', async (_name, bytes) => {
    const error = await rejection(bytes);
    expect(error.status).toBe(415);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  const HTML = Buffer.from('<html><body><script>alert(document.domain)</script></body></html>');
  const PNG_IEND_TAIL = png(1, 1).subarray(-8);
  const AVIF_2X2 = avif({ width: 2, height: 2 });
  const webpCoveringHtml = (() => {
    // An even RIFF size, as a whole WebP has.
    const bytes = Buffer.concat([WEBP_1X1, HTML, Buffer.from(HTML.length % 2 ? ' ' : '')]);
    bytes.writeUInt32LE(bytes.length - 8, 4);
    return bytes;
  })();

  it.each([
    ['a GIF followed by HTML ending in ";"', Buffer.concat([GIF_1X1, HTML, Buffer.from(';')])],
    ['a JPEG followed by HTML and FF D9', Buffer.concat([jpg(4, 4), HTML, Buffer.from([0xff, 0xd9])])],
    ['a JPEG followed by zero padding', Buffer.concat([jpg(4, 4), Buffer.alloc(16)])],
    ['a JPEG with MPF followed by HTML instead of a picture', Buffer.concat([multiPictureJpeg(), HTML])],
    ['a PNG followed by HTML and an IEND chunk tail', Buffer.concat([png(2, 2), HTML, PNG_IEND_TAIL])],
    ['a WebP whose RIFF size also covers appended HTML', webpCoveringHtml],
    ['an AVIF followed by HTML', Buffer.concat([AVIF_2X2, HTML])],
    ['an AVIF followed by four stray bytes', Buffer.concat([AVIF_2X2, HTML.subarray(0, 4)])],
    ['a truncated AVIF', AVIF_2X2.subarray(0, AVIF_2X2.length - 10)],
    ['a truncated GIF', gif({ width: 4, height: 4 }).subarray(0, 20)],
  ])('refuses %s with 415: data after the end the format\'s own structure gives', async (_name, bytes) => {
    const error = await rejection(bytes);
    expect(error.status).toBe(415);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it.each([
    ['a GIF frame', gif({ width: 1, height: 1 }, { width: 30_000, height: 30_000 })],
    ['an animated WebP frame', animatedWebp({ width: 1, height: 1 }, { width: 16_000, height: 16_000 })],
    ['a further AVIF image item', avif({ width: 1, height: 1 }, { width: 30_000, height: 30_000 })],
  ])('refuses %s larger than the pixel limit on a 1×1 canvas with 422', async (_name, bytes) => {
    const error = await rejection(bytes);
    expect(error.status).toBe(422);
    expect(error.code).toBe('TOO_MANY_PIXELS');
    expect(error.details).toMatchObject({ maxPixels: 40_000_000 });
  });

  it('refuses a header declaring more pixels than allowed with 422, without decoding', async () => {
    const error = await rejection(png(2, 2, { width: 100_000, height: 100_000 }));
    expect(error.status).toBe(422);
    expect(error.details).toEqual({ width: 100_000, height: 100_000, maxPixels: 40_000_000 });
  });
});

describe('displayName', () => {
  it('keeps a plain name', () => {
    expect(displayName('Product photo (1).png')).toBe('Product photo (1).png');
  });

  it('drops any path, Windows or POSIX', () => {
    expect(displayName('../../etc/passwd')).toBe('passwd');
    expect(displayName('C:\\Users\\me\\shot.png')).toBe('shot.png');
  });

  it('drops control and bidi-override characters', () => {
    expect(displayName('evil\u0000\r\n\u202Egnp.exe')).toBe('evilgnp.exe');
  });

  it('bounds the length and never answers an empty name', () => {
    expect(Array.from(displayName('é'.repeat(500)))).toHaveLength(200);
    expect(displayName('')).toBe('image');
    expect(displayName('..')).toBe('image');
  });
});
