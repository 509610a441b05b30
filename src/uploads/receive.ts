import type { Request, Response } from 'express';
import multer, { MulterError } from 'multer';
import { HttpError } from '../http/http-error.js';
import { temporaryStorage } from './temp-storage.js';

/** The file fields the shop's forms use: `image` (add product) and `productImage` (edit product). */
export const UPLOAD_FIELDS = ['image', 'productImage'] as const;

const FIELDS_TEXT = UPLOAD_FIELDS.map((name) => `"${name}"`).join(' or ');
const FIELD_DETAILS = { field: UPLOAD_FIELDS[0], fields: [...UPLOAD_FIELDS] };

export type ReceiveFile = (req: Request, res: Response) => Promise<Express.Multer.File | undefined>;

/**
 * Reads a multipart/form-data body holding at most one file, in one of UPLOAD_FIELDS, into a
 * temporary file in `dir`; text fields (productId, altText, category...) are read and ignored.
 * Every way the body can be wrong becomes an HttpError, and multer removes what it stored.
 */
export function receiveFile(dir: string, maxBytes: number): ReceiveFile {
  const upload = multer({
    storage: temporaryStorage(dir),
    // Browsers send file names as raw UTF-8 without a charset parameter; busboy would read latin1.
    defParamCharset: 'utf8',
    limits: {
      fileSize: maxBytes,
      files: 1,
      fields: 10,
      fieldSize: 1024,
      fieldNameSize: 64,
      parts: 12,
      headerPairs: 50,
      fieldNestingDepth: 1,
      fieldArrayIndexLimit: 10,
    },
  }).fields(UPLOAD_FIELDS.map((name) => ({ name, maxCount: 1 })));

  return async function receive(req, res) {
    if (!req.is('multipart/form-data')) {
      throw new HttpError(400, 'VALIDATION_ERROR', `Send the image as multipart/form-data, in the field ${FIELDS_TEXT}.`, { details: FIELD_DETAILS });
    }
    await new Promise<void>((resolve, reject) => {
      upload(req, res, (error: unknown) => (error ? reject(uploadError(error, maxBytes)) : resolve()));
    });
    const files = (req.files ?? {}) as Record<string, Express.Multer.File[]>;
    return UPLOAD_FIELDS.map((name) => files[name]?.[0]).find((file) => file !== undefined);
  };
}

/** No file at all in an otherwise well-formed body. */
export function noFileError(): HttpError {
  return new HttpError(400, 'VALIDATION_ERROR', `No file received: send one image as multipart/form-data in the field ${FIELDS_TEXT}.`, { details: FIELD_DETAILS });
}

function uploadError(error: unknown, maxBytes: number): unknown {
  if (error instanceof MulterError) return multerError(error, maxBytes);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HttpError(507, 'INSUFFICIENT_STORAGE', 'The server has no room to store the image; nothing was saved.', { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
    return new HttpError(500, 'UPLOAD_DIR_NOT_WRITABLE', 'The server cannot write to its upload directory; nothing was saved.', { cause: error });
  }
  const message = (error as Error).message;
  if (message === 'Request aborted' || message === 'Request closed') {
    return new HttpError(400, 'REQUEST_ABORTED', 'The upload was interrupted; nothing was saved.');
  }
  if (isParseError(error)) {
    return new HttpError(400, 'VALIDATION_ERROR', 'The multipart/form-data body is malformed; nothing was saved.', { cause: error });
  }
  return error;
}

/**
 * busboy reports every fault in the body it parses ("Malformed part header", "Unexpected end of
 * form", "Unsupported content type: ...", "Multipart: Boundary not found"...) as a plain Error
 * without a system error code; file-system and programming errors never look like that.
 */
function isParseError(error: unknown): boolean {
  return error instanceof Error && error.constructor === Error && (error as NodeJS.ErrnoException).code === undefined;
}

function multerError(error: MulterError, maxBytes: number): HttpError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return new HttpError(413, 'FILE_TOO_LARGE', `The file is larger than the upload limit of ${maxBytes} bytes; nothing was saved.`, { details: { maxBytes } });
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return new HttpError(400, 'VALIDATION_ERROR', `Send exactly one file, in the field ${FIELDS_TEXT}.`, { details: FIELD_DETAILS });
    default:
      return new HttpError(400, 'VALIDATION_ERROR', `The multipart form is not acceptable: ${error.message}.`);
  }
}
