/** The one error type for HTTP outcomes; the JSON error handler turns it into a response. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of every error answer, built here only: `{ success: false, error, message, ...details }`. */
export function errorBody(error: HttpError): Record<string, unknown> {
  return { success: false, error: error.code, message: error.message, ...error.details };
}

export const unauthorized = () => new HttpError(401, 'UNAUTHORIZED', 'Unauthorized');
export const forbidden = (message = 'Forbidden') => new HttpError(403, 'FORBIDDEN', message);
export const validationError = (message: string, details?: Record<string, unknown>) =>
  new HttpError(400, 'VALIDATION_ERROR', message, { details });
