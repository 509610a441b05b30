import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Logger } from 'pino';

export interface WatchedJsonFileOptions<T> {
  file: string;
  /** What the file holds, as log lines name it: "users file", "admin data file". */
  name: string;
  /** Turns the text into a value; throws with a message naming the bad entry. */
  parse: (text: string, file: string) => T;
  logger: Logger;
  /** What a missing file means, logged once while it is missing and nothing was loaded yet. */
  whenMissing: string;
  /** Fields for the "loaded" log line. */
  describe?: (value: T) => Record<string, unknown>;
  /** How often the file is checked for changes, in milliseconds. */
  pollIntervalMs?: number;
  /** Called after each good version is loaded. */
  onLoad?: (value: T) => void;
}

/**
 * A JSON file read at start and again whenever it changes. Reloads run one at a time; a file that
 * is missing, unreadable (a directory, no permission) or invalid is logged and the last good
 * version stays in use: nothing here ever ends the process.
 */
export class WatchedJsonFile<T> {
  private current: T | undefined;
  private missingReported = false;
  private reloading: Promise<void> = Promise.resolve();
  private readonly onChange = () => void this.reload();

  private constructor(private readonly options: WatchedJsonFileOptions<T>) {}

  static async open<T>(options: WatchedJsonFileOptions<T>): Promise<WatchedJsonFile<T>> {
    const watched = new WatchedJsonFile(options);
    await watched.reload();
    fs.watchFile(options.file, { interval: options.pollIntervalMs ?? 250, persistent: false }, watched.onChange);
    return watched;
  }

  /** The last good version, or undefined while none was read. */
  get value(): T | undefined {
    return this.current;
  }

  /** Reads the file again now, after any reload under way; also called when the file changes. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.load());
    return this.reloading;
  }

  async close(): Promise<void> {
    fs.unwatchFile(this.options.file, this.onChange);
    await this.reloading;
  }

  private async load(): Promise<void> {
    const { file, name, logger } = this.options;
    const kept = this.current === undefined ? this.options.whenMissing : 'keeping the last good version';
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        logger.error({ file, code, reason: (error as Error).message }, `${name} cannot be read; ${kept}`);
      } else if (!this.missingReported) {
        logger.warn({ file }, `${name} not found; ${kept}`);
      }
      this.missingReported = code === 'ENOENT';
      return;
    }
    this.missingReported = false;
    try {
      this.current = this.options.parse(text, file);
    } catch (error) {
      logger.error({ file, reason: (error as Error).message }, `${name} is invalid; ${kept}`);
      return;
    }
    logger.info({ file, ...this.options.describe?.(this.current) }, `${name} loaded`);
    this.options.onLoad?.(this.current);
  }
}
