import { timingSafeEqual } from 'node:crypto';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { match } from 'path-to-regexp';
import { VERSION } from '../config/version.js';
import { DependencyUnavailableError, type Dependency } from '../errors/domain-errors.js';
import { HttpError } from '../http/http-error.js';
import type { Route } from '../http/route.js';

export const METRICS_ROUTE = { method: 'get', path: '/metrics', session: false, audience: 'operator' } as const satisfies Route;

export interface MetricSources {
  activeSessions: () => Promise<number | undefined>;
  passwordQueue: () => { depth: number; active: number };
  storedUploads: () => Promise<{ count: number; bytes: number }>;
}


const DEPENDENCIES: readonly Dependency[] = ['session_store', 'login_regulation', 'user_directory', 'admin_data'];

/** The sidecar's Prometheus metrics, on a registry of its own (one per app). */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly logins: Counter<'outcome'>;
  private readonly uploads: Counter;
  private readonly uploadBytes: Counter;
  private readonly dependencyErrors: Counter<'dependency'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sidecar_', eventLoopMonitoringPrecision: 10 });
    this.httpDuration = new Histogram({
      name: 'sidecar_http_request_duration_seconds',
      help: 'Time to answer a request, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.logins = new Counter({ name: 'sidecar_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers });
    for (const outcome of ['succeeded', 'failed', 'regulated']) this.logins.inc({ outcome }, 0);
    this.uploads = new Counter({ name: 'sidecar_uploads_total', help: 'Images stored by this process', registers });
    this.uploadBytes = new Counter({ name: 'sidecar_upload_bytes_total', help: 'Bytes of images stored by this process', registers });
    this.dependencyErrors = new Counter({ name: 'sidecar_dependency_errors_total', help: 'Requests failed because a store or data source was unreachable', labelNames: ['dependency'], registers });
    for (const dependency of DEPENDENCIES) this.dependencyErrors.inc({ dependency }, 0);
    new Gauge({ name: 'sidecar_build_info', help: 'Always 1: the sidecar version and the Node version running it', labelNames: ['version', 'node'], registers }).set({ version: VERSION, node: process.version }, 1);
    new Gauge({
      name: 'sidecar_active_sessions',
      help: 'Live sessions in the session store',
      registers,
      async collect() {
        const count = await sources.activeSessions().catch(() => undefined);
        if (count !== undefined) this.set(count);
        else this.remove();
      },
    });
    new Gauge({
      name: 'sidecar_password_queue_depth',
      help: 'Password checks waiting for a slot',
      registers,
      collect() {
        this.set(sources.passwordQueue().depth);
      },
    });
    new Gauge({
      name: 'sidecar_password_checks_running',
      help: 'Password checks running now',
      registers,
      collect() {
        this.set(sources.passwordQueue().active);
      },
    });
    new Gauge({
      name: 'sidecar_stored_uploads',
      help: 'Images in the upload directory',
      registers,
      async collect() {
        this.set((await sources.storedUploads()).count);
      },
    });
    new Gauge({
      name: 'sidecar_stored_upload_bytes',
      help: 'Bytes of images in the upload directory',
      registers,
      async collect() {
        this.set((await sources.storedUploads()).bytes);
      },
    });
  }

  login(outcome: string): void {
    this.logins.inc({ outcome });
  }

  upload(bytes: number): void {
    this.uploads.inc();
    this.uploadBytes.inc(bytes);
  }

  /**
   * Times every request; the route label is the matched route pattern, never the raw path. It is
   * taken when the router assigns `req.route`: then `req.baseUrl` and `req.path` are still those of
   * the route's own router, which an error on its way out has already reset by the time we answer.
   */
  timing(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      let route: unknown;
      let label: string | undefined;
      Object.defineProperty(req, 'route', {
        configurable: true,
        enumerable: true,
        get: () => route,
        set: (value: unknown) => {
          route = value;
          label = routeLabel(req, value);
        },
      });
      res.once('finish', () => end({ method: req.method, route: label ?? (res.locals.proxied ? 'main-app' : 'unmatched'), status: String(res.statusCode) }));
      next();
    };
  }

  /** Counts failures of outside dependencies on their way to the JSON error handler. */
  errors(): ErrorRequestHandler {
    return (error, _req, _res, next) => {
      const dependency = error instanceof DependencyUnavailableError ? error.dependency : undefined;
      if (dependency) this.dependencyErrors.inc({ dependency });
      next(error);
    };
  }

  /** GET /metrics: from loopback without a proxy in between, or with `Authorization: Bearer <METRICS_TOKEN>`. */
  endpoint(token: string | undefined): RequestHandler {
    return async (req, res, next) => {
      if (!mayScrape(req, token)) return next(new HttpError(403, 'FORBIDDEN', 'Metrics are served to loopback, or with the metrics token'));
      res.set('Content-Type', this.registry.contentType).set('Cache-Control', 'no-store').send(await this.registry.metrics());
    };
  }
}

/**
 * The mount path plus the route's own pattern. Routing ignores case, so the mount path as the
 * client spelled it is lower-cased back to its pattern.
 */
function routeLabel(req: Request, route: unknown): string {
  const pattern = (route as { path?: unknown } | undefined)?.path;
  const base = req.baseUrl.toLowerCase();
  if (typeof pattern === 'string') return `${base}${pattern}`;
  if (Array.isArray(pattern)) return `${base}${patternOf(route as object, pattern as string[], req.path)}`;
  return 'unmatched';
}

const patternMatchers = new WeakMap<object, Array<{ pattern: string; matches: (path: string) => unknown }>>();

/** Which of a route's several patterns matched the path. */
function patternOf(route: object, patterns: string[], path: string): string {
  let matchers = patternMatchers.get(route);
  if (!matchers) {
    matchers = patterns.map((pattern) => ({ pattern, matches: match(pattern, { decode: false, sensitive: false, trailing: true }) }));
    patternMatchers.set(route, matchers);
  }
  return matchers.find((m) => m.matches(path))?.pattern ?? patterns.join('|');
}

function mayScrape(req: Request, token: string | undefined): boolean {
  const auth = req.get('authorization');
  if (token && auth?.startsWith('Bearer ')) {
    const given = Buffer.from(auth.slice(7));
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  const address = req.socket.remoteAddress ?? '';
  const loopback = address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
  // Through a proxy every client looks like loopback; a forwarded request is not a local scrape.
  return loopback && req.get('x-forwarded-for') === undefined && req.get('forwarded') === undefined;
}
