import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { INSTALL_DIR, type Env } from './config.js';

/** The one .env the server and the commands read: beside package.json, wherever they are started from. */
export const ENV_FILE = path.join(INSTALL_DIR, '.env');

/** The process environment over the values of an optional .env file: the environment wins. */
export function readEnv(envFile: string = ENV_FILE, processEnv: Env = process.env): Env {
  let fileValues: Env = {};
  try {
    fileValues = parseEnv(fs.readFileSync(envFile, 'utf8')) as Env;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fileValues, ...processEnv };
}
