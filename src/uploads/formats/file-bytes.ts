import type { FileHandle } from 'node:fs/promises';

/** The file does not have the structure its format requires; the message says what is wrong. */
export class BrokenImage extends Error {}

const WINDOW_BYTES = 256 * 1024;

/**
 * Reads a file at any position through one bounded window, so that walking the structure of a
 * large image reads each byte about once and holds at most WINDOW_BYTES of it.
 */
export class FileBytes {
  private window: Buffer;
  private start = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    head: Buffer,
  ) {
    this.window = head;
  }

  /** The `length` bytes at `position`; a BrokenImage when the file ends before them. */
  async at(position: number, length: number): Promise<Buffer> {
    if (position + length > this.size) throw new BrokenImage('The image is truncated.');
    if (position < this.start || position + length > this.start + this.window.length) await this.load(position, length);
    return this.window.subarray(position - this.start, position - this.start + length);
  }

  /** The `length` bytes at `position` if the window holds them: the hot loops' way to skip an await. */
  peek(position: number, length: number): Buffer | undefined {
    const offset = position - this.start;
    return offset >= 0 && offset + length <= this.window.length ? this.window.subarray(offset, offset + length) : undefined;
  }

  /** Where `byte` first occurs at or after `position` if the window shows it; undefined when it does not. */
  peekIndexOf(byte: number, position: number): number | undefined {
    const offset = position - this.start;
    const found = offset >= 0 && offset < this.window.length ? this.window.indexOf(byte, offset) : -1;
    return found === -1 ? undefined : this.start + found;
  }

  /** Where `byte` first occurs at or after `position`, or -1 when it does not. */
  async indexOf(byte: number, position: number): Promise<number> {
    while (position < this.size) {
      if (position < this.start || position >= this.start + this.window.length) await this.load(position, 1);
      const found = this.window.indexOf(byte, position - this.start);
      if (found !== -1) return this.start + found;
      position = this.start + this.window.length;
    }
    return -1;
  }

  private async load(position: number, length: number): Promise<void> {
    const window = Buffer.allocUnsafe(Math.min(Math.max(length, WINDOW_BYTES), this.size - position));
    const { bytesRead } = await this.handle.read(window, 0, window.length, position);
    // The file shrank under us: what is not there is not part of the image.
    if (bytesRead < length) throw new BrokenImage('The image is truncated.');
    this.window = window.subarray(0, bytesRead);
    this.start = position;
  }
}

export interface Dimensions {
  width: number;
  height: number;
}

/** Where a format's own structure says the image ends, and every frame a decoder would allocate. */
export interface Structure {
  end: number;
  frames: Dimensions[];
}

export type WalkStructure = (bytes: FileBytes) => Promise<Structure>;
