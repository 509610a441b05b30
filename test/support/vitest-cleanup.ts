import { afterEach } from 'vitest';

/** A list whose members (harnesses, stores, servers) are closed after each test of the file. */
export function closedAfterEach<T extends { close(): Promise<unknown> }>(): T[] {
  const open: T[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });
  return open;
}
