import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

export const BCRYPT_MAX_BYTES = 72;

/** Why a new password cannot be used, or undefined when it can. */
export function newPasswordProblem(password: string): string | undefined {
  if (password.length === 0) return 'The password is empty.';
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    return `The password is longer than bcrypt's limit of ${BCRYPT_MAX_BYTES} bytes (UTF-8); bcrypt would ignore the rest, so it is refused. Choose a shorter one.`;
  }
  if (password.length < 8) return 'The password is shorter than 8 characters.';
  return undefined;
}

export function hashPassword(password: string, cost: number): Promise<string> {
  const problem = newPasswordProblem(password);
  if (problem) return Promise.reject(new Error(problem));
  return bcrypt.hash(password, cost);
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Checks passwords so that an unknown user, a disabled user and a wrong password cost the same
 * bcrypt work: unknown users are checked against a hash of a random password.
 */
export class PasswordVerifier {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly cost: number) {}

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
    const target = hash && isBcryptHash(hash) ? hash : await this.dummy();
    const matched = await bcrypt.compare(tooLong ? '' : password, target);
    return matched && !tooLong && target === hash;
  }

  private dummy(): Promise<string> {
    const dummy = (this.dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), this.cost));
    return dummy;
  }
}

export function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}
