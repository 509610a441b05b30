import type { Logger } from 'pino';
import { WatchedJsonFile } from '../fs/watched-json-file.js';
import { parseUsersFile } from './users-file.js';
import type { User, UserDirectory } from './user.js';

export interface FileUserDirectoryOptions {
  file: string;
  logger: Logger;
  /** How often the file is checked for changes, in milliseconds. */
  pollIntervalMs?: number;
}

interface Users {
  byName: Map<string, User>;
  byId: Map<string, User>;
}

const NO_USERS: Users = { byName: new Map(), byId: new Map() };

/**
 * Users from a JSON file, reloaded when the file changes. A file that breaks, disappears or cannot
 * be read keeps the previous users in use, and the reason is logged.
 */
export class FileUserDirectory implements UserDirectory {
  readonly kind = 'file';

  private constructor(private readonly users: WatchedJsonFile<Users>) {}

  static async open(options: FileUserDirectoryOptions): Promise<FileUserDirectory> {
    const users = await WatchedJsonFile.open<Users>({
      file: options.file,
      name: 'users file',
      whenMissing: 'no one can log in',
      parse: (text, file) => {
        const list = parseUsersFile(text, file);
        return { byName: new Map(list.map((u) => [u.username, u])), byId: new Map(list.map((u) => [u.id, u])) };
      },
      describe: (users) => ({ users: users.byId.size }),
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
    });
    return new FileUserDirectory(users);
  }

  async findByUsername(username: string): Promise<User | undefined> {
    return (this.users.value ?? NO_USERS).byName.get(username);
  }

  async findById(id: string): Promise<User | undefined> {
    return (this.users.value ?? NO_USERS).byId.get(id);
  }

  /** Reads the file again now; also done when the file changes. */
  reload(): Promise<void> {
    return this.users.reload();
  }

  close(): Promise<void> {
    return this.users.close();
  }
}
