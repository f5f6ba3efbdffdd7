import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for job secrets at rest. Stored layout: version (1 byte) | IV (12) | tag (16) |
 * ciphertext. The job id is authenticated as associated data, so a ciphertext copied onto
 * another job does not decrypt.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** From SECRETS_KEY (64 hex digits or base64 of 32 bytes); in development, a key kept under dataDir. */
  static fromConfig(secretsKey: string | undefined, dataDir: string): SecretBox {
    if (secretsKey !== undefined) {
      const key = /^[0-9a-fA-F]{64}$/.test(secretsKey) ? Buffer.from(secretsKey, 'hex') : Buffer.from(secretsKey, 'base64');
      return new SecretBox(key);
    }
    const file = path.resolve(dataDir, 'dev-secrets-key');
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
  }

  seal(jobId: string, plaintext: Record<string, unknown>): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(jobId));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
  }

  open(jobId: string, sealed: Buffer): Record<string, unknown> {
    if (sealed[0] !== VERSION) throw new Error('unknown secrets format');
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(jobId));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  }
}
