import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session, { type Store } from 'express-session';
import { Passport } from 'passport';

export interface StandInShop {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A stand-in for the shop's unchanged server, built from the same libraries and settings as the real
 * one (server/auth.ts and routes.ts of JoeLogavina/METENZI-B2B): express-session on the given store
 * under `connect.sid`, not rolling, `trust proxy 1`; passport storing the user's id and reading it
 * back by id; a CSRF check that compares X-CSRF-Token with `csrfToken` in the session for every
 * non-GET /api route but login and logout. Its own routes need `req.isAuthenticated()`.
 */
export async function startStandInShop(options: { store: Store; secret: string; users: Array<{ id: string; username: string; role: string }> }): Promise<StandInShop> {
  const app = express();
  const passport = new Passport();
  app.set('trust proxy', 1);
  app.use(express.json());
  app.use(
    session({
      store: options.store,
      secret: options.secret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, secure: 'auto' as unknown as boolean, sameSite: 'strict', maxAge: 7 * 24 * 3600 * 1000 },
    }),
  );
  passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
  passport.deserializeUser((id: string, done) => done(null, (options.users.find((u) => u.id === id) as Express.User | undefined) ?? false));
  app.use(passport.initialize(), passport.session());

  app.use('/api', (req, res, next) => {
    if (req.method === 'GET' || req.path === '/login' || req.path === '/logout') return next();
    const token = req.get('x-csrf-token') ?? req.get('x-xsrf-token');
    const stored = (req.session as unknown as { csrfToken?: string } | undefined)?.csrfToken;
    if (!token || !stored || token !== stored) return void res.status(403).json({ error: 'CSRF_TOKEN_INVALID', message: 'Invalid or missing CSRF token' });
    next();
  });
  const loggedIn: express.RequestHandler = (req, res, next) => (req.isAuthenticated() ? next() : void res.status(401).json({ message: 'Unauthorized' }));
  app.get('/api/products', loggedIn, (req, res) => void res.json({ products: [], userId: (req.user as { id: string }).id }));
  app.post('/api/cart', loggedIn, (req, res) => void res.json({ added: req.body, userId: (req.user as { id: string }).id }));
  app.get('/api/admin/products', loggedIn, (req, res) => void res.json({ products: [], role: (req.user as { role: string }).role }));

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
