/**
 * A Bloom filter of strings in a fixed 4 MiB: `mightHave` is never false for a key that was added
 * (no false negatives), and true for a key that was not with a small probability (about 0.1% after
 * a million keys, rising slowly after that). Imports use it to skip looking up, in the database,
 * invoice numbers that cannot exist yet; a "might" is looked up as before, so a false positive
 * costs one index probe, never a wrong answer.
 */
const BITS = 1 << 25; // 32 Mibit = 4 MiB
const HASHES = 7;

export class KeyFilter {
  private readonly bits = new Uint32Array(BITS >>> 5);
  size = 0;

  add(key: string): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) & (BITS - 1);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.size++;
  }

  mightHave(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) & (BITS - 1);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit hashes (FNV-1a and a multiplicative one) for double hashing. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // An odd step visits distinct bits for every one of the HASHES probes.
  return [a >>> 0, (b | 1) >>> 0];
}
