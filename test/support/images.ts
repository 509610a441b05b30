import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid RGB PNG of the given size. With `declared`, the header claims those dimensions while
 * the pixel data stays tiny: a decompression-bomb header.
 */
export function png(width: number, height: number, declared?: { width: number; height: number }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(declared?.width ?? width, 0);
  ihdr.writeUInt32BE(declared?.height ?? height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 40) & 255, (y * 40) & 255, 128], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG padded with a large ancillary chunk, `bytes` long in all (for size-limit tests). */
export function bigPng(bytes: number): Buffer {
  const base = png(4, 4);
  const iend = base.subarray(base.length - 12);
  const padding = chunk('zzZz', Buffer.alloc(Math.max(0, bytes - base.length - 12)));
  return Buffer.concat([base.subarray(0, base.length - 12), padding, iend]);
}

export function jpg(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4, 200);
  return jpeg.encode({ data, width, height }, 80).data;
}

// 1×1 GIF89a and 1×1 lossless WebP, byte for byte.
export const GIF_1X1 = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
export const WEBP_1X1 = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

export const SVG_WITH_SCRIPT = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>');
export const HTML_PHP = Buffer.from('<html><body><?php system($_GET["c"]); ?></body></html>');
/** Starts like a GIF, carries PHP after the image: not a whole GIF. */
export const GIF_PHP_POLYGLOT = Buffer.concat([GIF_1X1, Buffer.from('<?php system($_GET["c"]); ?>')]);
export const ZIP_BYTES = Buffer.from('504b0304140000000000000000000000000000000000000000000000000000000000', 'hex');

/**
 * A GIF89a whose logical screen and single frame (image descriptor) have the given sizes; the
 * frame's data is a token LZW stream, enough for structure checks, not for decoding.
 */
export function gif(screen: { width: number; height: number }, frame = screen): Buffer {
  const header = Buffer.alloc(13);
  header.write('GIF89a', 'latin1');
  header.writeUInt16LE(screen.width, 6);
  header.writeUInt16LE(screen.height, 8);
  const descriptor = Buffer.alloc(10);
  descriptor[0] = 0x2c;
  descriptor.writeUInt16LE(frame.width, 5);
  descriptor.writeUInt16LE(frame.height, 7);
  return Buffer.concat([header, descriptor, Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00, 0x3b])]);
}

function riffChunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(type, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
}

const uint24 = (value: number) => Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]);

/** An animated WebP (VP8X canvas, one ANMF frame holding the 1×1 lossless bitstream). */
export function animatedWebp(canvas: { width: number; height: number }, frame = canvas): Buffer {
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), uint24(canvas.width - 1), uint24(canvas.height - 1)]);
  const bitstream = WEBP_1X1.subarray(12);
  const anmf = Buffer.concat([uint24(0), uint24(0), uint24(frame.width - 1), uint24(frame.height - 1), uint24(100), Buffer.from([0]), bitstream]);
  const body = Buffer.concat([Buffer.from('WEBP'), riffChunk('VP8X', vp8x), riffChunk('ANIM', Buffer.alloc(6)), riffChunk('ANMF', anmf)]);
  return Buffer.concat([Buffer.from('RIFF'), Buffer.from(new Uint32Array([body.length]).buffer), body]);
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const data = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + data.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, data]);
}

const fullBox = (type: string, ...payload: Buffer[]) => box(type, Buffer.alloc(4), ...payload);

function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v, 4 * i));
  return out;
}

/**
 * An AVIF container: ftyp, meta with one `ispe` per size given (the first is the primary image's),
 * and an mdat of token bytes. Right in structure, not decodable.
 */
export function avif(...sizes: Array<{ width: number; height: number }>): Buffer {
  const properties = sizes.map(({ width, height }) => fullBox('ispe', u32(width, height)));
  return Buffer.concat([
    box('ftyp', Buffer.from('avif'), u32(0), Buffer.from('avifmif1miaf')),
    fullBox(
      'meta',
      fullBox('hdlr', u32(0), Buffer.from('pict'), Buffer.alloc(13)),
      fullBox('pitm', Buffer.from([0, 1])),
      box('iprp', box('ipco', ...properties)),
    ),
    box('mdat', Buffer.alloc(32, 0x55)),
  ]);
}

/** A JPEG that declares more pictures (an MPF APP2 segment), followed by a second, complete JPEG. */
export function multiPictureJpeg(): Buffer {
  const first = jpg(4, 4);
  const mpf = Buffer.concat([Buffer.from([0xff, 0xe2, 0x00, 0x08]), Buffer.from('MPF\0'), Buffer.alloc(2)]);
  return Buffer.concat([first.subarray(0, 2), mpf, first.subarray(2), jpg(2, 2)]);
}
