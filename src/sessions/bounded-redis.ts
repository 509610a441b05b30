import { withTimeout } from './timeout.js';

/**
 * A view of a Redis client (node-redis) on which every command, and a MULTI's exec, fails after
 * `timeoutMs`: node-redis's own command timeout stops counting once a command is written, so a
 * Redis that hangs with the connection open would hold the caller for as long as it hangs.
 */
export function boundedRedis<T extends object>(client: T, timeoutMs: number): T {
  const bound = (target: object): object => {
    const view: object = new Proxy(target, {
      get(obj, prop) {
        const value: unknown = Reflect.get(obj, prop, obj);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(obj, args);
          if (result === obj) return view; // a chained MULTI
          if (result instanceof Promise) return withTimeout(result, timeoutMs, 'Redis');
          if (result && typeof result === 'object' && typeof (result as { exec?: unknown }).exec === 'function') return bound(result);
          return result;
        };
      },
    });
    return view;
  };
  return bound(client) as T;
}
