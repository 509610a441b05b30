declare module 'session-file-store' {
  import type session from 'express-session';

  interface FileStoreOptions {
    path?: string;
    ttl?: number;
    retries?: number;
    reapInterval?: number;
    fileExtension?: string;
    logFn?: (message: string) => void;
  }

  type FileStoreClass = new (options?: FileStoreOptions) => session.Store & {
    options: FileStoreOptions & { path: string };
  };

  export default function createFileStore(sessionModule: typeof session): FileStoreClass;
}
