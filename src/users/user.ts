import type { Role } from '../config/config.js';

export interface User {
  id: string;
  username: string;
  role: Role;
  passwordHash: string;
  disabled?: boolean;
  createdAt?: string;
}

export interface PublicUser {
  id: string;
  username: string;
  role: Role;
}

export function publicUser(user: User): PublicUser {
  return { id: user.id, username: user.username, role: user.role };
}

/** Where the sidecar looks users up. Implementations: the users file, the main app's database. */
export interface UserDirectory {
  readonly kind: string;
  findByUsername(username: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /** Password hashes the directory holds (all, or a sample): unknown users are checked with their parameters. */
  sampleHashes?(): Promise<string[]>;
  close(): Promise<void>;
}
