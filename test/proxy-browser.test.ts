import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, startHarness, type Harness } from './support/harness.js';
import { requireProgram } from './support/programs.js';
import { startStubMainApp, type StubMainApp } from './support/stub-main-app.js';

const chromiumBin = requireProgram('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser']);

describe.skipIf(!chromiumBin)("the main app's pages in headless Chromium through the built-in proxy", () => {
  let main: StubMainApp;
  let h: Harness;
  let sidecar: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  beforeAll(async () => {
    main = await startStubMainApp('<!doctype html><title>Shop</title><p id="status">static</p><script>document.getElementById("status").textContent = "inline script ran"</script>');
    h = await startHarness({ env: { MAIN_APP_URL: main.url, HSTS_MAX_AGE: '600' } });
    sidecar = await listen(h);
    browser = await chromium.launch({ executablePath: chromiumBin, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sidecar?.close();
    await h?.close();
    await main?.close();
  });

  it("run the main app's inline script, as they do without the sidecar", async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${sidecar.url}/`);
    expect(await page.textContent('#status')).toBe('inline script ran');
    expect(response?.headers()['content-security-policy']).toBeUndefined();
    await page.close();
  }, 30_000);
});
