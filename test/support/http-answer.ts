import { toHttpError } from '../../src/http/error-mapping.js';
import type { HttpError } from '../../src/http/http-error.js';

/** The HTTP answer the error handler would give for the failure of `pending` (which must fail). */
export async function httpAnswerOf(pending: Promise<unknown>): Promise<HttpError | undefined> {
  try {
    await pending;
  } catch (error) {
    return toHttpError(error);
  }
  throw new Error('expected a failure, but it succeeded');
}

/** The HTTP answer for what `work` throws (it must throw). */
export function httpAnswerOfThrown(work: () => unknown): HttpError | undefined {
  try {
    work();
  } catch (error) {
    return toHttpError(error);
  }
  throw new Error('expected a failure, but it succeeded');
}
