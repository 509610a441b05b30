import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
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

/** Distinct hashes remembered for learning parameters; past this, new ones are no longer counted. */
const MAX_LEARNED_HASHES = 10_000;

/**
 * Checks passwords so that an unknown user, a disabled user and a wrong password cost the same
 * work: unknown users are checked against a random hash with the parameters most common among the
 * directory's hashes (learned from a sample and from every real hash checked), not BCRYPT_COST,
 * which may differ from what the directory holds and would tell unknown users apart by timing.
 */
export class PasswordVerifier {
  private readonly learned = new Set<string>();
  private readonly tally = new Map<string, { count: number; example: string }>();
  private readonly dummies = new Map<string, Promise<string>>();
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly cost: number,
    /** Called when a stored hash is in no known format (the login then fails like a wrong password). */
    private readonly onUnknownFormat?: () => void,
  ) {}

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const known = hash !== undefined && hashParameters(hash) !== undefined;
    if (hash !== undefined && !known) this.onUnknownFormat?.();
    if (known) this.learn([hash]);
    const matched = await this.check(password, known ? hash : await this.dummyHash());
    return matched && known;
  }

  /** Runs the hash's own algorithm with its own parameters: the one place a password meets a hash. */
  async check(password: string, hash: string): Promise<boolean> {
    if (isScryptHash(hash)) return verifyScrypt(password, hash);
    const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
    // $2y$ (PHP) is the same algorithm as $2b$; node's bcrypt only reads the latter.
    const matched = await bcrypt.compare(tooLong ? '' : password, hash.replace(/^\$2y\$/, '$2b$'));
    return matched && !tooLong;
  }

  /** Counts the parameters of hashes the directory holds (each distinct hash once). */
  learn(hashes: Iterable<string>): void {
    for (const hash of hashes) {
      const parameters = hashParameters(hash);
      if (!parameters || this.learned.has(hash) || this.learned.size >= MAX_LEARNED_HASHES) continue;
      this.learned.add(hash);
      const entry = this.tally.get(parameters) ?? { count: 0, example: hash };
      this.tally.set(parameters, { count: entry.count + 1, example: hash });
    }
  }

  /**
   * Learns from a sample of the directory, in place of what was learned before (the directory
   * changed); unknown users wait for it rather than run at the wrong cost.
   */
  learnFrom(sample: () => Promise<string[]>, onError: (error: unknown) => void): Promise<void> {
    this.sampling = sample().then((hashes) => {
      this.learned.clear();
      this.tally.clear();
      this.learn(hashes);
    }, onError);
    return this.sampling;
  }

  /** The hash an unknown user is checked against: random, with the most common parameters learned (BCRYPT_COST before any). */
  async dummyHash(): Promise<string> {
    await this.sampling;
    let example: string | undefined;
    let most = 0;
    for (const { count, example: e } of this.tally.values()) if (count > most) [most, example] = [count, e];
    const parameters = example ? hashParameters(example)! : `bcrypt cost ${this.cost}`;
    let dummy = this.dummies.get(parameters);
    if (!dummy) this.dummies.set(parameters, (dummy = randomHashLike(example, this.cost)));
    return dummy;
  }
}

/** What checking a hash costs, as text ("bcrypt cost 10", "scrypt keylen 64 salt 32"); undefined for a format that cannot be checked. */
export function hashParameters(hash: string): string | undefined {
  if (isBcryptHash(hash)) return `bcrypt cost ${Number(hash.slice(4, 6))}`;
  if (!isScryptHash(hash)) return undefined;
  const [hex, salt] = hash.split('.') as [string, string];
  return `scrypt keylen ${hex.length / 2} salt ${salt.length}`;
}

/** A hash of a random password with the parameters of `example` (bcrypt at `cost` when there is none). */
function randomHashLike(example: string | undefined, cost: number): Promise<string> {
  const secret = randomBytes(16).toString('hex');
  if (example && isScryptHash(example)) {
    const [hex, salt] = example.split('.') as [string, string];
    return Promise.resolve(`${randomHex(hex.length)}.${randomHex(salt.length)}`);
  }
  return bcrypt.hash(secret, example ? Number(example.slice(4, 6)) : cost);
}

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

export function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}

/** The "hex.salt" scrypt format many Express starter apps store: scrypt(password, salt, 64) in hex. */
export function isScryptHash(hash: string): boolean {
  return /^[0-9a-f]{128}\.[0-9a-f]{16,}$/i.test(hash);
}

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [hex, salt] = stored.split('.') as [string, string];
  const expected = Buffer.from(hex, 'hex');
  const actual = await scryptAsync(password, salt, expected.length);
  return timingSafeEqual(actual, expected);
}
