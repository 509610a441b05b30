import fs from 'node:fs/promises';
import path from 'node:path';

/** Count and total size of stored images, re-read at most every `maxAgeMs`. */
export class UploadStats {
  private cached: { at: number; value: Promise<{ count: number; bytes: number }> } | undefined;

  constructor(
    private readonly dir: string,
    private readonly maxAgeMs = 10_000,
  ) {}

  read(): Promise<{ count: number; bytes: number }> {
    if (!this.cached || Date.now() - this.cached.at > this.maxAgeMs) {
      this.cached = { at: Date.now(), value: this.scan() };
    }
    return this.cached.value;
  }

  private async scan(): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = 0;
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (name.startsWith('.')) continue;
      const stat = await fs.stat(path.join(this.dir, name)).catch(() => undefined);
      if (stat?.isFile()) {
        count += 1;
        bytes += stat.size;
      }
    }
    return { count, bytes };
  }
}
