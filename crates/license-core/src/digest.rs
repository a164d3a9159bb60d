//! Digests as the formats write them: lower-case hex.

/// Lower-case hex SHA-256: backup names, idempotency keys, token hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex_lower(&sha2::Sha256::digest(bytes))
}

/// Bytes as lower-case hex, the form every digest, key id and MAC is written in.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
