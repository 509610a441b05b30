import fs from 'node:fs';
import type { Logger } from 'pino';
import { readUsersFile } from './users-file.js';
import type { User, UserDirectory } from './user.js';

export interface FileUserDirectoryOptions {
  file: string;
  logger: Logger;
  /** How often the file is checked for changes, in milliseconds. */
  pollIntervalMs?: number;
}

/**
 * Users from a JSON file, reloaded when the file changes. A file that breaks after a change keeps
 * the previous users in use, and the reason is logged.
 */
export class FileUserDirectory implements UserDirectory {
  readonly kind = 'file';
  private byName = new Map<string, User>();
  private byId = new Map<string, User>();
  private byEmail = new Map<string | number, User>();
  private readonly file: string;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly onFileChange = () => void this.reload();
  private reloading: Promise<void> = Promise.resolve();
  private readonly listeners: Array<() => void> = [];

  private constructor(options: FileUserDirectoryOptions) {
    this.file = options.file;
    this.logger = options.logger;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  static async open(options: FileUserDirectoryOptions): Promise<FileUserDirectory> {
    const directory = new FileUserDirectory(options);
    const users = await readUsersFile(options.file);
    if (users === undefined) options.logger.warn({ file: options.file }, 'users file not found: no one can log in');
    directory.use(users ?? []);
    fs.watchFile(options.file, { interval: directory.pollIntervalMs, persistent: false }, directory.onFileChange);
    return directory;
  }

  async findByUsername(username: string): Promise<User | undefined> {
    return this.byName.get(username);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.byEmail.get(email);
  }

  async findById(id: string): Promise<User | undefined> {
    return this.byId.get(id);
  }

  async sampleHashes(): Promise<string[]> {
    return [...this.byId.values()].map((u) => u.passwordHash);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    fs.unwatchFile(this.file, this.onFileChange);
    await this.reloading;
  }

  /** Reads the file again now; also called when the file changes. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      try {
        const users = await readUsersFile(this.file);
        if (users === undefined) {
          this.logger.error({ file: this.file }, 'users file disappeared; keeping the previous users');
          return;
        }
        this.use(users);
        this.logger.info({ file: this.file, users: users.length }, 'users file reloaded');
        for (const listener of this.listeners) listener();
      } catch (error) {
        this.logger.error({ file: this.file, reason: (error as Error).message }, 'users file is broken; keeping the previous users');
      }
    });
    return this.reloading;
  }

  private use(users: User[]): void {
    this.byName = new Map(users.map((u) => [u.username, u]));
    this.byId = new Map(users.map((u) => [u.id, u]));
    this.byEmail = new Map(users.filter((u) => u.email !== undefined).map((u) => [u.email!, u]));
  }
}
