import fs from 'node:fs';
import { parseEnv } from 'node:util';
import type { Env } from './config.js';

/** The process environment over the values of an optional .env file: the environment wins. */
export function readEnv(envFile: string, processEnv: Env = process.env): Env {
  let fileValues: Env = {};
  try {
    fileValues = parseEnv(fs.readFileSync(envFile, 'utf8')) as Env;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fileValues, ...processEnv };
}
