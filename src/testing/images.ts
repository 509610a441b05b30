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
