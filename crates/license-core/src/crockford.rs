//! Crockford base32 symbols and the "Luhn mod 32" check character shared by
//! activation codes and serial numbers (`shared/spec/formats.md`, "Check characters"),
//! and [`CheckedCode`], the one type behind both.

use crate::error::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

/// The 32 symbols; a symbol's code point is its position here.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Code point of an already normalised (upper-case, aliases resolved) symbol.
pub fn code_point(symbol: u8) -> Option<u32> {
    ALPHABET.iter().position(|&c| c == symbol).map(|p| p as u32)
}

pub fn symbol(code_point: u32) -> char {
    ALPHABET[(code_point % 32) as usize] as char
}

/// Reads user input the way Crockford intends: case-insensitive, `I`/`L` as `1`,
/// `O` as `0`, hyphens and spaces dropped. Returns the offending character otherwise.
pub fn normalize(input: &str) -> Result<String, char> {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        let upper = c.to_ascii_uppercase();
        let mapped = match upper {
            '-' | ' ' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            _ => upper,
        };
        if !mapped.is_ascii() || code_point(mapped as u8).is_none() {
            return Err(c);
        }
        out.push(mapped);
    }
    Ok(out)
}

/// The Luhn mod 32 check symbol for `payload` (normalised symbols only).
pub fn luhn_check_symbol(payload: &str) -> char {
    let mut factor = 2;
    let mut sum = 0u32;
    for b in payload.bytes().rev() {
        let p = code_point(b).expect("payload is normalised") * factor;
        sum += p / 32 + p % 32;
        factor = if factor == 2 { 1 } else { 2 };
    }
    symbol((32 - sum % 32) % 32)
}

/// Groups of five joined by `-`.
pub fn grouped(symbols: &str) -> String {
    symbols.as_bytes().chunks(5).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join("-")
}

/// What tells one kind of checked code from another: its length and its name.
pub trait CodeKind: 'static {
    /// Symbols, the check symbol included.
    const LEN: usize;
    /// For `Debug`: `ActivationCode`, `SerialNumber`.
    const TYPE_NAME: &'static str;
    /// The error for an input that is not such a code.
    fn invalid(input: &str, reason: String, length: Option<crate::error::SymbolCount>) -> Error;
    /// "an activation code", "a serial number".
    fn article_name() -> &'static str;
}

/// Symbols plus a Luhn mod 32 check symbol, kept normalised (no hyphens), printed in
/// groups of five, read forgivingly (case, I/L→1, O→0, hyphens and spaces). The
/// activation code and the serial number are this one type with different kinds.
pub struct CheckedCode<K: CodeKind>(String, PhantomData<fn() -> K>);

impl<K: CodeKind> CheckedCode<K> {
    /// A code with a correct check symbol, from `K::LEN - 1` payload symbols.
    pub fn from_payload(payload: &str) -> Result<Self, Error> {
        let p = normalize(payload)
            .map_err(|c| K::invalid(payload, format!("'{c}' is not a Crockford base32 symbol"), None))?;
        if p.len() != K::LEN - 1 {
            return Err(K::invalid(&p, format!("a payload has {} symbols, not {}", K::LEN - 1, p.len()), None));
        }
        let check = luhn_check_symbol(&p);
        Ok(Self(format!("{p}{check}"), PhantomData))
    }

    /// Symbols without hyphens, e.g. for URLs.
    pub fn compact(&self) -> &str {
        &self.0
    }
}

impl<K: CodeKind> FromStr for CheckedCode<K> {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        let s = normalize(input.trim()).map_err(|c| {
            K::invalid(input, format!("'{c}' is not allowed (use 0-9 and A-Z without I, L, O, U)"), None)
        })?;
        if s.len() != K::LEN {
            let length = crate::error::SymbolCount { given: s.len(), needed: K::LEN };
            return Err(K::invalid(
                input,
                format!("it has {} symbols; {} has {}", s.len(), K::article_name(), K::LEN),
                Some(length),
            ));
        }
        let (payload, check) = s.split_at(K::LEN - 1);
        if luhn_check_symbol(payload).to_string() != check {
            return Err(K::invalid(input, "its check character does not match: a symbol was mistyped".into(), None));
        }
        Ok(Self(s, PhantomData))
    }
}

impl<K: CodeKind> fmt::Display for CheckedCode<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&grouped(&self.0))
    }
}

impl<K: CodeKind> fmt::Debug for CheckedCode<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({self})", K::TYPE_NAME)
    }
}

// By hand: derives would demand the same traits of the marker type `K`.
impl<K: CodeKind> Clone for CheckedCode<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}
impl<K: CodeKind> PartialEq for CheckedCode<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K: CodeKind> Eq for CheckedCode<K> {}
impl<K: CodeKind> Hash for CheckedCode<K> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.hash(h)
    }
}
impl<K: CodeKind> PartialOrd for CheckedCode<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: CodeKind> Ord for CheckedCode<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K: CodeKind> Serialize for CheckedCode<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de, K: CodeKind> Deserialize<'de> for CheckedCode<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

// In TypeScript a code is its printed text.
#[cfg(feature = "ts")]
ts_as!([K: CodeKind] CheckedCode<K> => String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_symbol_matches_hand_computation() {
        // "1": code point 1, doubled = 2, sum 2, check (32-2)%32 = 30 -> 'Y'.
        assert_eq!(luhn_check_symbol("1"), 'Y');
        // "10": 0*2=0, 1*1=1, sum 1 -> 31 -> 'Z'.
        assert_eq!(luhn_check_symbol("10"), 'Z');
        // "Z": 31*2=62 -> 62/32 + 62%32 = 1 + 30 = 31 -> check 1.
        assert_eq!(luhn_check_symbol("Z"), '1');
        assert_eq!(luhn_check_symbol(""), '0');
    }

    #[test]
    fn every_single_substitution_changes_the_check() {
        let base = "7K3MQ9TX4B2HZR8W5NQ";
        let check = luhn_check_symbol(base);
        for i in 0..base.len() {
            for &s in ALPHABET {
                if s == base.as_bytes()[i] {
                    continue;
                }
                let mut v = base.as_bytes().to_vec();
                v[i] = s;
                let changed = String::from_utf8(v).unwrap();
                assert_ne!(luhn_check_symbol(&changed), check, "substitution at {i} undetected");
            }
        }
    }

    #[test]
    fn normalize_resolves_aliases_and_rejects_u() {
        assert_eq!(normalize("ab-c il o").unwrap(), "ABC110");
        assert_eq!(normalize("xu"), Err('u'));
        assert_eq!(normalize("é"), Err('é'));
    }
}
