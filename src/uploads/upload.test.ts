import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, eventually, startHarness, tempDir, type Harness } from '../../test/support/harness.js';
import { GIF_1X1, GIF_PHP_POLYGLOT, HTML_PHP, SVG_WITH_SCRIPT, WEBP_1X1, ZIP_BYTES, avif, bigPng, gif, jpg, png } from '../../test/support/images.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

async function setup(env: Record<string, string> = {}) {
  const h = await startHarness({ users: [ADMIN, B2B], env });
  harnesses.push(h);
  const loginAs = async (user = ADMIN) => cookieHeader((await request(h.app).post('/api/login').send(user)).headers['set-cookie']);
  const dir = path.join(h.config.uploads.dir, 'products');
  return { h, dir, cookie: await loginAs(), loginAs };
}

const upload = (h: Harness, cookie: string | undefined, bytes: Buffer, name = 'photo.png', route = '/api/admin/upload-image') => {
  const req = request(h.app).post(route);
  if (cookie) req.set('cookie', cookie);
  return req.attach('image', bytes, name);
};

describe('POST /api/admin/upload-image and /api/images/upload', () => {
  it('stores a PNG byte for byte under a random name and answers the contract', async () => {
    const { h, dir, cookie } = await setup();
    const bytes = png(3, 2);
    const res = await upload(h, cookie, bytes, 'My photo.png');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      imageUrl: `/uploads/products/${res.body.filename}`,
      url: `/uploads/products/${res.body.filename}`,
      filePath: `/uploads/products/${res.body.filename}`,
      filename: expect.stringMatching(/^[0-9a-f]{32}\.png$/),
      originalName: 'My photo.png',
      size: bytes.length,
      message: 'Image uploaded successfully',
      mimeType: 'image/png',
      width: 3,
      height: 2,
    });
    expect(await fs.readdir(dir)).toEqual([res.body.filename]);
    expect(await fs.readFile(path.join(dir, res.body.filename))).toEqual(bytes);
    expect((await fs.stat(path.join(dir, res.body.filename))).mode & 0o777).toBe(0o644);
  });

  it.each([
    ['JPEG', jpg(4, 4), 'jpg', 'image/jpeg'],
    ['GIF', GIF_1X1, 'gif', 'image/gif'],
    ['WebP', WEBP_1X1, 'webp', 'image/webp'],
    ['AVIF', avif({ width: 2, height: 2 }), 'avif', 'image/avif'],
  ])('accepts a %s on the fallback route and serves it back with its type', async (_name, bytes, extension, mimeType) => {
    const { h, cookie } = await setup();
    const res = await upload(h, cookie, bytes, 'upload.png', '/api/images/upload');
    expect(res.status).toBe(200);
    expect(res.body.filename).toMatch(new RegExp(`\\.${extension}$`));
    const served = await request(h.app).get(res.body.imageUrl).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe(mimeType);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['cache-control']).toContain('immutable');
    expect(served.body).toEqual(bytes);
  });

  it.each(['/api/admin/upload-image', '/api/images/upload'])(
    'on %s takes the file in the field productImage beside the edit page\'s productId, altText and category',
    async (route) => {
      const { h, dir, cookie } = await setup();
      const res = await request(h.app)
        .post(route)
        .set('cookie', cookie)
        .field('productId', 'c0ffee-42')
        .field('altText', 'Front view of the box')
        .field('category', 'software')
        .attach('productImage', png(3, 2), 'box.png');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, url: res.body.imageUrl, filePath: res.body.imageUrl, originalName: 'box.png', mimeType: 'image/png', width: 3, height: 2 });
      expect(await fs.readdir(dir)).toEqual([res.body.filename]);
    },
  );

  it.each(['Café.png', '商品.png'])('gives back the file name %s exactly as it was sent', async (name) => {
    const { h, cookie } = await setup();
    const res = await upload(h, cookie, png(1, 1), name);
    expect(res.status).toBe(200);
    expect(res.body.originalName).toBe(name);
  });

  it('takes the extension from the bytes, not the name: a JPEG named .png is stored as .jpg', async () => {
    const { h, cookie } = await setup();
    const res = await upload(h, cookie, jpg(2, 2), 'looks-like.png');
    expect(res.body.filename).toMatch(/\.jpg$/);
    expect(res.body.originalName).toBe('looks-like.png');
  });

  it('answers 401 to an anonymous upload and stores nothing', async () => {
    const { h, dir } = await setup();
    const res = await upload(h, undefined, png(1, 1));
    expect(res.status).toBe(401);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('answers 403 to a b2b_user on both routes and stores nothing', async () => {
    const { h, dir, loginAs } = await setup();
    const cookie = await loginAs(B2B);
    for (const route of ['/api/admin/upload-image', '/api/images/upload']) {
      const res = await upload(h, cookie, png(1, 1), 'x.png', route);
      expect(res.status).toBe(403);
    }
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it.each([
    ['text under a .png name', Buffer.from('not an image at all'), 'photo.png'],
    ['an SVG with a script', SVG_WITH_SCRIPT, 'logo.svg'],
    ['an HTML/PHP page', HTML_PHP, 'shell.php.png'],
    ['a GIF/PHP polyglot', GIF_PHP_POLYGLOT, 'shell.gif'],
    ['a ZIP renamed .png', ZIP_BYTES, 'archive.png'],
    ['a truncated PNG', png(32, 32).subarray(0, 80), 'cut.png'],
    ['an empty file', Buffer.alloc(0), 'empty.png'],
    ['a GIF followed by HTML ending in the trailer byte ";"', Buffer.concat([GIF_1X1, Buffer.from('<script>alert(1)</script>;')]), 'a.gif'],
    ['a JPEG followed by HTML and FF D9', Buffer.concat([jpg(4, 4), Buffer.from('<script>alert(1)</script>'), Buffer.from([0xff, 0xd9])]), 'a.jpg'],
    ['an AVIF followed by HTML', Buffer.concat([avif({ width: 2, height: 2 }), Buffer.from('<script>alert(1)</script>')]), 'a.avif'],
  ])('refuses %s with 415 and leaves nothing behind', async (_name, bytes, name) => {
    const { h, dir, cookie } = await setup();
    const res = await upload(h, cookie, bytes, name);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ success: false, error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a decompression bomb header with 422 and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup();
    const res = await upload(h, cookie, png(2, 2, { width: 50_000, height: 50_000 }));
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('TOO_MANY_PIXELS');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a GIF with a 1×1 screen and a 30000×30000 frame with 422 and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup();
    const res = await upload(h, cookie, gif({ width: 1, height: 1 }, { width: 30_000, height: 30_000 }), 'frame.gif');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'TOO_MANY_PIXELS', width: 30_000, height: 30_000, maxPixels: 40_000_000 });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a file over UPLOAD_MAX_BYTES with 413 and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup({ UPLOAD_MAX_BYTES: '4096' });
    const res = await upload(h, cookie, bigPng(8192));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'FILE_TOO_LARGE', maxBytes: 4096 });
    expect(await fs.readdir(dir)).toEqual([]);
    expect((await upload(h, cookie, bigPng(4096))).status).toBe(200);
  });

  it('refuses two files with 400 naming the field, and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup();
    const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('image', png(1, 1), 'a.png').attach('image', png(1, 1), 'b.png');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'VALIDATION_ERROR', field: 'image' });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses one file in image and another in productImage with 400, and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup();
    const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('image', png(1, 1), 'a.png').attach('productImage', png(1, 1), 'b.png');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'VALIDATION_ERROR', fields: ['image', 'productImage'] });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a file in the wrong field with 400 naming the expected one', async () => {
    const { h, dir, cookie } = await setup();
    const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('file', png(1, 1), 'a.png');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('"image"');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('answers 400 when no file is sent, or the body is not multipart', async () => {
    const { h, cookie } = await setup();
    const form = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).field('title', 'x');
    expect(form.status).toBe(400);
    expect(form.body.field).toBe('image');
    const json = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).send({ image: 'data:image/png;base64,AAAA' });
    expect(json.status).toBe(400);
  });

  it('refuses deeply nested or huge-index field names', async () => {
    const { h, cookie } = await setup();
    const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).field('a[99999999]', 'x').attach('image', png(1, 1), 'a.png');
    expect(res.status).toBe(400);
  });

  it('leaves no file, temporary or final, when the client disconnects mid-body', async () => {
    const { h, dir, cookie } = await setup();
    const server = http.createServer(h.app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as AddressInfo;
      const boundary = 'xxBOUNDARYxx';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`;
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/api/admin/upload-image', headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 5_000_000 } });
      req.on('error', () => undefined);
      req.write(head);
      req.write(png(64, 64));
      req.write(Buffer.alloc(256 * 1024, 1));
      await eventually(async () => (await fs.readdir(dir)).some((f) => f.endsWith('.tmp')), 2000);
      req.destroy();
      await eventually(async () => (await fs.readdir(dir)).length === 0, 2000);
    } finally {
      server.close();
    }
  });

  it('answers JSON, stays up and leaves nothing when its temporary file is deleted while the body still arrives', async () => {
    const { h, dir, cookie } = await setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const server = http.createServer(h.app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as AddressInfo;
      const boundary = 'xxBOUNDARYxx';
      // Past the first flush along the way (every 4 MiB), which once looked the file up by name.
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`),
        bigPng(6 * 1024 * 1024),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/api/admin/upload-image', headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length } });
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
      });
      req.write(body.subarray(0, 1024 * 1024));
      await eventually(async () => (await fs.readdir(dir)).some((f) => f.endsWith('.tmp')), 2000);
      for (const name of await fs.readdir(dir)) await fs.rm(path.join(dir, name));
      req.end(body.subarray(1024 * 1024));
      const res = await response;
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toMatchObject({ success: false, error: expect.any(String) });
      expect(res.text).not.toContain(h.dir);
      expect(unhandled).toEqual([]);
      expect(await fs.readdir(dir)).toEqual([]);
      expect((await request(h.app).get('/api/user').set('cookie', cookie)).status).toBe(200);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      server.close();
    }
  });

  it('answers 500 JSON naming the problem when the upload directory cannot be written, and stays up', async () => {
    const { h, dir, cookie } = await setup();
    await fs.rm(dir, { recursive: true });
    await fs.writeFile(dir, 'not a directory');
    const res = await upload(h, cookie, png(1, 1));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'UPLOAD_DIR_NOT_WRITABLE' });
    expect(res.text).not.toContain(h.dir);
    expect((await request(h.app).get('/api/user').set('cookie', cookie)).status).toBe(200);
  });

  const canMount = (() => {
    try {
      return process.getuid?.() === 0 && execFileSync('id', ['-u']).toString().trim() === '0';
    } catch {
      return false;
    }
  })();
  it.skipIf(!canMount)('answers 507 when the disk is full, and leaves nothing behind', async () => {
    const { h, dir, cookie } = await setup({ UPLOAD_MAX_BYTES: String(1024 * 1024) });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    } catch (error) {
      console.warn(`skipped: cannot mount a small tmpfs (${(error as Error).message})`);
      return;
    }
    try {
      const res = await upload(h, cookie, bigPng(200 * 1024));
      expect(res.status).toBe(507);
      expect(res.body).toMatchObject({ error: 'INSUFFICIENT_STORAGE' });
      expect(await fs.readdir(dir)).toEqual([]);
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

const BOUNDARY = 'xxBOUNDARYxx';

/** A hand-written one-part multipart body, for what a well-behaved client never sends. */
const rawUpload = (h: Harness, cookie: string, partHead: string, contentType = `multipart/form-data; boundary=${BOUNDARY}`) =>
  request(h.app)
    .post('/api/admin/upload-image')
    .set('cookie', cookie)
    .set('content-type', contentType)
    .send(Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${partHead}\r\n\r\n`, 'latin1'), png(1, 1), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]));

describe('a malformed multipart body', () => {
  const disposition = 'Content-Disposition: form-data; name="image"; filename="a.png"';
  it.each([
    ['a part header without a colon', 'Content-Disposition form-data; name="image"; filename="a.png"', undefined],
    ['a 90 KB part header', `${disposition}\r\nX-Padding: ${'a'.repeat(90 * 1024)}`, undefined],
    ['CR LF in the file name', 'Content-Disposition: form-data; name="image"; filename="a\r\nb.png"', undefined],
    ['BEL in the file name', 'Content-Disposition: form-data; name="image"; filename="a\u0007b.png"', undefined],
    ['a multipart/mixed content type', disposition, `multipart/mixed; boundary=${BOUNDARY}`],
    ['a multipart content type without a boundary', disposition, 'multipart/form-data'],
  ])('is answered 400 VALIDATION_ERROR as JSON for %s, leaving nothing behind and the server up', async (_name, partHead, contentType) => {
    const { h, dir, cookie } = await setup();
    const res = await rawUpload(h, cookie, partHead, contentType);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ success: false, error: 'VALIDATION_ERROR', message: expect.any(String) });
    expect(await fs.readdir(dir)).toEqual([]);
    expect((await request(h.app).get('/api/user').set('cookie', cookie)).status).toBe(200);
  });

  it('is answered 400 naming multipart/form-data when the body has another content type', async () => {
    const { h, cookie } = await setup();
    const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).set('content-type', 'image/png').send(png(1, 1));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'VALIDATION_ERROR', message: expect.stringContaining('multipart/form-data') });
  });
});

describe('cross-site protection', () => {
  it('refuses an upload whose Origin is another site', async () => {
    const { h, dir, cookie } = await setup();
    const res = await upload(h, cookie, png(1, 1)).set('origin', 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('CROSS_SITE_REQUEST');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a login marked Sec-Fetch-Site: cross-site without an allowed Origin', async () => {
    const { h } = await setup();
    const res = await request(h.app).post('/api/login').set('sec-fetch-site', 'cross-site').send(ADMIN);
    expect(res.status).toBe(403);
  });

  it('lets the same origin through, as the existing frontend sends it', async () => {
    const { h, cookie } = await setup();
    const res = await upload(h, cookie, png(1, 1)).set('host', 'shop.example').set('origin', 'http://shop.example').set('sec-fetch-site', 'same-origin');
    expect(res.status).toBe(200);
  });

  it('lets the same origin through behind a TLS proxy', async () => {
    const { h, cookie } = await setup();
    const res = await upload(h, cookie, png(1, 1)).set('host', 'shop.example').set('x-forwarded-proto', 'https').set('origin', 'https://shop.example');
    expect(res.status).toBe(200);
  });

  it('lets an origin listed in ALLOWED_ORIGINS through', async () => {
    const { h, cookie } = await setup({ ALLOWED_ORIGINS: 'https://admin.example' });
    const res = await upload(h, cookie, png(1, 1)).set('origin', 'https://admin.example').set('sec-fetch-site', 'cross-site');
    expect(res.status).toBe(200);
  });
});

describe('GET /uploads/products/<file>', () => {
  it('answers 404 JSON for a missing file, a directory listing, a dotfile or a traversal', async () => {
    const { h, dir } = await setup();
    await fs.writeFile(path.join(dir, '.upload-abc.tmp'), 'x');
    for (const url of ['/uploads/products/missing.png', '/uploads/products/', '/uploads/products/.upload-abc.tmp', '/uploads/products/..%2f..%2fusers.json', '/uploads/products/../../users.json']) {
      const res = await request(h.app).get(url);
      expect(res.status, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/application\/json/);
    }
  });
});

describe('the upload directory at start', () => {
  it('is created readable to others (for nginx) even under a strict umask', async () => {
    const previous = process.umask(0o077);
    try {
      const { dir, h } = await setup();
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o755);
      expect((await fs.stat(h.config.uploads.dir)).mode & 0o777).toBe(0o755);
    } finally {
      process.umask(previous);
    }
  });

  it('loses the temporary files that interrupted uploads left over an hour ago, and keeps younger ones', async () => {
    const dir = path.join(await tempDir(), 'uploads', 'products');
    await fs.mkdir(dir, { recursive: true });
    const old = path.join(dir, '.upload-0123456789abcdef01234567.tmp');
    const young = path.join(dir, '.upload-fedcba9876543210fedcba98.tmp');
    const image = path.join(dir, 'kept.png');
    for (const f of [old, young, image]) await fs.writeFile(f, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(old, twoHoursAgo, twoHoursAgo);
    await fs.utimes(image, twoHoursAgo, twoHoursAgo);
    const h = await startHarness({ dir: path.dirname(path.dirname(dir)) });
    harnesses.push(h);
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(young), 'kept.png'].sort());
    expect(h.logs.lines).toContainEqual(expect.objectContaining({ removed: 1, msg: 'removed temporary files of interrupted uploads' }));
  });
});
