/**
 * A 64-bit content hash (two FNV-1a lanes) as hex: names weights and images for the embedding
 * cache in the page. Not cryptographic; WebCrypto is avoided because pages served over plain
 * HTTP from another machine (not localhost) do not get it.
 */
export function contentHash(bytes: Uint8Array, prefix = ''): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < prefix.length; i++) {
    a = Math.imul(a ^ prefix.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ prefix.charCodeAt(i), 0x01000193);
  }
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i] ^ (i & 0xff), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0') + bytes.length.toString(16);
}
