/**
 * Deterministic, label-safe hashes: the revision hash of a pod template (HIST-13 equivalent) and
 * the short hash in generated pod names.
 *
 * Choice: upstream's `ComputeHash` is FNV-32a over a Go-specific deep dump, which cannot be
 * reproduced outside Go. Here the input is the template's canonical JSON (sorted keys, absent and
 * null fields dropped, timestamps as RFC 3339), followed by `#<collisionCount>` when a collision
 * count is set; the digest is SHA-256. The revision hash keeps upstream's rendering: the first 4
 * digest bytes as a big-endian uint32, printed in decimal, each digit mapped through the "safe"
 * alphabet (`rand.SafeEncodeString`), giving 1–10 chars such as `6d5b8b9c4f`. Interoperability
 * with revisions written by upstream is kept because matching is by content (HIST-4) and the hash
 * is always read from the current revision's label (HIST-10), never recomputed.
 */
import { createHash } from 'node:crypto';
import { stableStringify } from './canonical-json.js';

/** The alphabet of `k8s.io/apimachinery/pkg/util/rand.SafeEncodeString` (no vowels, no 0/1/3). */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Maps every character through the safe alphabet by char code, like `SafeEncodeString`. */
export function safeEncodeString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The revision hash of a pod template and collision count (used for new revisions only).
 * Mirrors `controller.ComputeHash` in shape and purpose, not in bytes (see the module comment).
 */
export function computeTemplateHash(template: unknown, collisionCount: number | undefined): string {
  const input = stableStringify(template) + (collisionCount === undefined ? '' : `#${collisionCount}`);
  return safeEncodeString(String(sha256(input).readUInt32BE(0)));
}

/**
 * A short (default 10 chars) safe-alphabet hash of some strings, for generated names.
 * Each char is one digest byte modulo the alphabet size.
 */
export function shortHash(parts: readonly string[], length = 10): string {
  const digest = sha256(JSON.stringify(parts));
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[(digest[i] ?? 0) % SAFE_ALPHABET.length];
  return out;
}
