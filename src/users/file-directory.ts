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
  byEmail: Map<string, User>;
}

const NO_USERS: Users = { byName: new Map(), byId: new Map(), byEmail: new Map() };

/**
 * Users from a JSON file, reloaded when the file changes. A file that breaks, disappears or cannot
 * be read keeps the previous users in use, and the reason is logged.
 */
export class FileUserDirectory implements UserDirectory {
  readonly kind = 'file';

  private constructor(
    private readonly users: WatchedJsonFile<Users>,
    private readonly listeners: Array<() => void>,
  ) {}

  static async open(options: FileUserDirectoryOptions): Promise<FileUserDirectory> {
    const listeners: Array<() => void> = [];
    const users = await WatchedJsonFile.open<Users>({
      file: options.file,
      name: 'users file',
      whenMissing: 'no one can log in',
      parse: (text, file) => {
        const list = parseUsersFile(text, file);
        return {
          byName: new Map(list.map((u) => [u.username, u])),
          byId: new Map(list.map((u) => [u.id, u])),
          byEmail: new Map(list.flatMap((u) => (u.email === undefined ? [] : [[String(u.email), u] as const]))),
        };
      },
      describe: (users) => ({ users: users.byId.size }),
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
      onLoad: () => {
        for (const listener of listeners) listener();
      },
    });
    return new FileUserDirectory(users, listeners);
  }

  async findByUsername(username: string): Promise<User | undefined> {
    return (this.users.value ?? NO_USERS).byName.get(username);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return (this.users.value ?? NO_USERS).byEmail.get(email);
  }

  async findById(id: string): Promise<User | undefined> {
    return (this.users.value ?? NO_USERS).byId.get(id);
  }

  async sampleHashes(): Promise<string[]> {
    return [...(this.users.value ?? NO_USERS).byId.values()].map((u) => u.passwordHash);
  }

  /** `listener` runs after every good reload of the file. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reads the file again now; also done when the file changes. */
  reload(): Promise<void> {
    return this.users.reload();
  }

  close(): Promise<void> {
    return this.users.close();
  }
}
