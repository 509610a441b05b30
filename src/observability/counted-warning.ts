import type { Logger } from './logger.js';

/**
 * A warning for an event that may come thousands of times a second (a flood): the first occurrence
 * starts a window of `windowMs`, and at its end one line says how many there were (under `countAs`).
 * Answers the function to call at each occurrence.
 */
export function countedWarning(logger: Logger, message: string, fields: Record<string, unknown>, countAs: string, windowMs = 10_000): () => void {
  let count = 0;
  return () => {
    if (count++ > 0) return;
    setTimeout(() => {
      logger.warn({ ...fields, [countAs]: count }, message);
      count = 0;
    }, windowMs).unref();
  };
}
