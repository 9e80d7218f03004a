// Title keys at rest: AES-256-GCM under the key-encryption key (KEK). The kid and title are the
// additional authenticated data, so a sealed key copied onto another row fails to open.
// Sealed form: 12-byte nonce ‖ 16-byte tag ‖ ciphertext.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class KeyVault {
  #kek: Buffer;

  constructor(kekHex: string) {
    if (!/^[0-9a-fA-F]{64}$/.test(kekHex)) throw new Error('KEK must be 64 hex digits');
    this.#kek = Buffer.from(kekHex, 'hex');
  }

  seal(titleId: string, kid: string, keyHex: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#kek, iv);
    c.setAAD(Buffer.from(`${titleId}/${kid}`));
    const body = Buffer.concat([c.update(Buffer.from(keyHex, 'hex')), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }

  /** throws if the KEK is wrong or the sealed bytes were altered or moved */
  open(titleId: string, kid: string, sealed: Buffer): Buffer {
    const d = createDecipheriv('aes-256-gcm', this.#kek, sealed.subarray(0, 12));
    d.setAAD(Buffer.from(`${titleId}/${kid}`));
    d.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([d.update(sealed.subarray(28)), d.final()]);
  }
}
