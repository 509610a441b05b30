import path from 'node:path';
import { startNginx, call } from '../../test/.build/test/support/nginx.js';
import { startStubMainApp } from '../../test/.build/test/support/stub-main-app.js';
import { login, ratio, request, startVariant } from './lib.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'];

/** What nginx's auth_request adds to a main-app request, against a direct GET /api/user to the sidecar. */
export async function authRequestBench({ quick }) {
  const fs = await import('node:fs');
  const nginxBin = NGINX.find((p) => fs.existsSync(p));
  if (!nginxBin) return { name: 'auth_request overhead through nginx', rows: [], figures: [{ name: 'auth_request added / direct GET /api/user', value: null, target: 'skipped: nginx not installed' }] };
  const count = quick ? 300 : 2000;
  const main = await startStubMainApp();
  const sidecar = await startVariant('file');
  const nginx = await startNginx(nginxBin, { sidecarPort: Number(new URL(sidecar.url).port), mainAppPort: main.port, uploadsDir: path.join(sidecar.dir, 'uploads', 'products') });
  try {
    const loginRes = await call(`${nginx.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password' }) });
    const cookie = loginRes.headers['set-cookie'][0].split(';')[0];
    const directCookie = await login(sidecar.url);
    const headers = { cookie, host: 'shop.example.com' };
    const plain = [];
    const guarded = [];
    const direct = [];
    const time = async (list, url, h) => {
      const start = performance.now();
      const res = await request(url, { headers: h });
      list.push(performance.now() - start);
      if (res.status >= 300) throw new Error(`${url}: ${res.status}`);
    };
    for (let i = 0; i < 50; i++) await time([], `${nginx.httpUrl}/api/admin/x`, headers);
    for (let i = 0; i < count; i++) {
      await time(plain, `${nginx.httpUrl}/catalog/x`, headers);
      await time(guarded, `${nginx.httpUrl}/api/admin/x`, headers);
      await time(direct, `${sidecar.url}/api/user`, { cookie: directCookie });
    }
    const p = median(plain);
    const g = median(guarded);
    const d = median(direct);
    const added = g - p;
    return {
      name: `auth_request overhead through nginx (${count} interleaved sequential requests each, medians)`,
      rows: [
        { variant: 'main app through nginx, no auth', p50: round(p) },
        { variant: 'main app through nginx with auth_request', p50: round(g) },
        { variant: 'direct GET /api/user to the sidecar', p50: round(d) },
      ],
      figures: [{ name: 'auth_request added latency / direct GET /api/user', value: ratio(added, d), target: '<= 1.2', pass: added / d <= 1.2 }],
    };
  } finally {
    await nginx.stop();
    await sidecar.stop();
    await main.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 1000) / 1000;
