import type { Role } from './roles.js';

/** Profile fields the main app's client reads (`data.tenantId`, ...); a directory fills those it has. */
export const PROFILE_FIELDS = ['email', 'tenantId', 'companyName', 'firstName', 'lastName', 'branchType', 'parentCompanyId'] as const;
export type Profile = Partial<Record<(typeof PROFILE_FIELDS)[number], string | number>>;

export interface User extends Profile {
  id: string;
  username: string;
  role: Role;
  passwordHash: string;
  disabled?: boolean;
  createdAt?: string;
}

export interface PublicUser extends Profile {
  id: string;
  username: string;
  role: Role;
}

/** The fields a client may see: never the hash, the disabled flag or anything unlisted. */
export function publicUser(user: User): PublicUser {
  const shown: PublicUser = { id: user.id, username: user.username, role: user.role };
  for (const field of PROFILE_FIELDS) if (user[field] !== undefined) shown[field] = user[field];
  return shown;
}

/** Where the sidecar looks users up. Implementations: the users file, the main app's database. */
export interface UserDirectory {
  readonly kind: string;
  findByUsername(username: string): Promise<User | undefined>;
  /** The user with this email address, matched exactly. */
  findByEmail(email: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /** Password hashes the directory holds (all, or a sample): unknown users are checked with their parameters. */
  sampleHashes?(): Promise<string[]>;
  /** Calls `listener` whenever the users have changed (a reloaded file). */
  onChange?(listener: () => void): void;
  close(): Promise<void>;
}
