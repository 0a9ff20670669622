//! Random secrets (session cookies, CSRF tokens, API tokens) and how they
//! are stored: only their SHA-256, compared in constant time. The secrets
//! carry 256 random bits, so a fast hash is enough (a slow password hash is
//! for what people choose).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so a leaked one is recognisable in a scanner.
pub const TOKEN_PREFIX: &str = "finops_";

/// 32 random bytes as 64 lower-case hex digits.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A new API token: `finops_` and 64 hex digits.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_hex())
}

/// The stored form of a secret: SHA-256 as hex.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Equality whose time does not depend on where the inputs differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Whether `text` looks like a secret this module made (64 hex digits),
/// checked before any database lookup.
pub fn well_formed(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_stored_as_digests() {
        let a = random_hex();
        let b = random_hex();
        assert_ne!(a, b);
        assert!(well_formed(&a) && well_formed(&b));
        let token = new_api_token();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(well_formed(&token[TOKEN_PREFIX.len()..]));
        // SHA-256("abc"), the FIPS 180-2 example.
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "abcd") && !same("", "a"));
        assert!(!well_formed("xyz") && !well_formed(&"g".repeat(64)));
    }
}
