import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, listen, startHarness, tempDir, type Harness } from './support/harness.js';
import { startNginx, type RunningNginx } from './support/nginx.js';
import { ROOT } from './support/processes.js';
import { requireProgram } from './support/programs.js';
import { startStubMainApp, type StubMainApp } from './support/stub-main-app.js';

const nginxBin = requireProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
const chromiumBin = requireProgram('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser']);
const OUTPUT = path.join(ROOT, 'test', 'output');

describe.skipIf(!nginxBin || !chromiumBin)('the admin panel flow in headless Chromium through nginx', () => {
  let h: Harness;
  let main: StubMainApp;
  let nginx: RunningNginx;
  let sidecar: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  beforeAll(async () => {
    main = await startStubMainApp('<!doctype html><title>Shop admin</title><h1>Shop admin</h1><p id="status">loading</p><img id="uploaded" alt="">');
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'admin-data.json'), JSON.stringify({ products: [{ id: 'office-365', name: 'Office 365', licenseKeys: { available: 12, assigned: 3 } }], totalUsers: 5, totalSales: 99 }));
    h = await startHarness({ dir, users: [ADMIN] });
    sidecar = await listen(h);
    nginx = await startNginx(nginxBin!, { sidecarPort: sidecar.port, mainAppPort: main.port, uploadsDir: path.join(h.config.uploads.dir, 'products') });
    browser = await chromium.launch({
      executablePath: chromiumBin,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await sidecar?.close();
    await h?.close();
    await main?.close();
  });

  it('logs in, uploads an image, reads the user, survives a reload and logs out', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${nginx.httpsUrl}/`);
    expect(await page.textContent('h1')).toBe('Shop admin');

    const loggedIn = await page.evaluate(async (credentials) => {
      const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
      return { status: res.status, body: await res.json() };
    }, { username: ADMIN.username, password: ADMIN.password });
    expect(loggedIn).toMatchObject({ status: 200, body: { success: true, user: { username: 'alice' } } });

    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'sidecar.sid')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });

    const uploaded = await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 40;
      canvas.height = 30;
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#2f9e44';
      ctx.fillRect(0, 0, 40, 30);
      const blob: Blob = await new Promise((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
      const form = new FormData();
      form.append('image', blob, 'product.png');
      const res = await fetch('/api/admin/upload-image', { method: 'POST', body: form });
      const body = await res.json();
      const img = document.getElementById('uploaded') as HTMLImageElement;
      img.src = body.imageUrl;
      await img.decode();
      document.getElementById('status')!.textContent = `uploaded ${body.filename}`;
      return { status: res.status, body, natural: [img.naturalWidth, img.naturalHeight] };
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ success: true, mimeType: 'image/png', width: 40, height: 30, originalName: 'product.png' });
    expect(uploaded.natural).toEqual([40, 30]);

    const user = await page.evaluate(async () => (await fetch('/api/user')).json());
    expect(user).toMatchObject({ username: 'alice', role: 'super_admin' });
    const counts = await page.evaluate(async () => (await fetch('/api/admin/license-counts')).json());
    expect(counts).toEqual({ success: true, data: { 'office-365': 12 } });

    await fs.mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'browser-admin-flow.png') });

    await page.reload();
    const afterReload = await page.evaluate(async () => (await fetch('/api/user')).status);
    expect(afterReload).toBe(200);

    const loggedOut = await page.evaluate(async () => {
      const out = await fetch('/api/logout', { method: 'POST' });
      const user = await fetch('/api/user');
      return [out.status, user.status];
    });
    expect(loggedOut).toEqual([200, 401]);
    await context.close();
  }, 60_000);
});
