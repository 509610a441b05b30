import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../test/support/harness.js';
import { SIDECAR_ROUTES } from './app.js';
import { fixedPart } from './http/route.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method and path the app's routers answer (routers are all mounted at the root). */
function routesOf(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => `${m} ${layer.route!.path}`);
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}

describe("the app's routes and their declarations", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ALLOWED_ORIGINS: 'https://shop.example' } });
  });
  afterAll(() => h?.close());

  it('serves every declared route, and no route that is not declared', () => {
    const served = new Set(routesOf((h.app as unknown as { router: { stack: Layer[] } }).router.stack));
    const declared = SIDECAR_ROUTES.filter((r) => !fixedPart(r).path.startsWith('/uploads/')).map((r) => `${r.method} ${r.path}`);
    expect([...served].sort()).toEqual([...new Set(declared)].sort());
  });

  it.each(SIDECAR_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('puts the session in front of %s exactly when it is declared to need it', async (_name, route) => {
    const path = route.path.replace(/\/[:*]\w+/, '/x');
    const res = await request(h.app).options(path).set('Origin', 'https://shop.example').set('Access-Control-Request-Method', route.method.toUpperCase());
    // The CORS allowlist runs in front of the session: a preflight is answered only for session routes.
    expect(res.headers['access-control-allow-origin'] === 'https://shop.example').toBe(route.session);
  });
});
