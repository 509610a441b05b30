import type { z } from 'zod';

export interface JsonFileOptions {
  /** How the first problem's place is named in the message (default: its dotted path in quotes). */
  where?: (json: unknown, path: PropertyKey[]) => string;
  /** The error thrown (default: Error). */
  error?: (message: string) => Error;
}

/**
 * The content of a JSON file read against its schema; throws one error naming the file and, for
 * text that is not JSON, the parser's complaint, else the first place that does not fit the schema.
 */
export function parseJsonFile<S extends z.ZodType>(text: string, file: string, schema: S, options: JsonFileOptions = {}): z.output<S> {
  const fail = options.error ?? ((message: string) => new Error(message));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = options.where ? options.where(json, issue.path) : `"${issue.path.join('.')}"`;
    throw fail(`${file}: ${where} ${issue.message}`);
  }
  return result.data;
}
