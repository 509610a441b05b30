import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

export interface DataPaths {
  dataDir: string;
  envFile: string;
  usersFile?: string;
  /** Session files, and the generated secret when SESSION_SECRET is unset. */
  sessionDir?: string;
  uploadDir: string;
  adminDataFile?: string;
}

/** Where the server reads and writes, for one line at start. */
export function dataPaths(config: Config, envFile: string): DataPaths {
  const { users, session, uploads, adminData } = config;
  return {
    dataDir: config.dataDir,
    envFile,
    ...(users.source === 'file' ? { usersFile: users.file } : {}),
    ...(session.store === 'file' || !session.secrets ? { sessionDir: session.dir } : {}),
    uploadDir: uploads.dir,
    ...(adminData.source === 'file' ? { adminDataFile: adminData.file } : {}),
  };
}

/**
 * A users.json or .env in the working directory that is not the one in use: the sign of a start
 * from the wrong folder, or of files left there before DATA_DIR existed.
 */
export function strayFiles(cwd: string, inUse: { usersFile?: string; envFile: string }): string[] {
  const warnings: string[] = [];
  const users = path.join(cwd, 'users.json');
  if (inUse.usersFile !== undefined && users !== inUse.usersFile && isFile(users)) {
    warnings.push(`${users} is not the users file in use (${inUse.usersFile}); set DATA_DIR or USERS_FILE if it was meant`);
  }
  const env = path.join(cwd, '.env');
  if (env !== inUse.envFile && isFile(env)) {
    warnings.push(`${env} is not read (only ${inUse.envFile} and the environment are); move it there if it was meant`);
  }
  return warnings;
}

function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}
