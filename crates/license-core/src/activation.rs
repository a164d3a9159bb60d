//! Activation codes: 24 Crockford symbols plus a Luhn mod 32 check symbol,
//! printed as five groups of five.

use crate::crockford;
use crate::error::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActivationCode(String); // 25 normalised symbols, no hyphens

const LEN: usize = 25;

impl ActivationCode {
    /// A new code with a correct check symbol, from 24 payload symbols.
    pub fn from_payload(payload: &str) -> Result<Self, Error> {
        let payload = crockford::normalize(payload).map_err(|c| invalid(payload, format!("'{c}' is not a Crockford base32 symbol")))?;
        if payload.len() != LEN - 1 {
            return Err(invalid(&payload, format!("a payload has {} symbols, not {}", LEN - 1, payload.len())));
        }
        let check = crockford::luhn_check_symbol(&payload);
        Ok(Self(format!("{payload}{check}")))
    }

    /// Symbols without hyphens, e.g. for URLs.
    pub fn compact(&self) -> &str {
        &self.0
    }
}

fn invalid(input: &str, reason: String) -> Error {
    Error::InvalidActivationCode { input: input.chars().take(64).collect(), reason }
}

impl FromStr for ActivationCode {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        let s = crockford::normalize(input.trim()).map_err(|c| invalid(input, format!("'{c}' is not allowed (use 0-9 and A-Z without I, L, O, U)")))?;
        if s.len() != LEN {
            return Err(invalid(input, format!("it has {} symbols; an activation code has {LEN}", s.len())));
        }
        let (payload, check) = s.split_at(LEN - 1);
        if crockford::luhn_check_symbol(payload).to_string() != check {
            return Err(invalid(input, "its check character does not match: a symbol was mistyped".into()));
        }
        Ok(Self(s))
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crockford::grouped(&self.0))
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivationCode({self})")
    }
}

impl Serialize for ActivationCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ActivationCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "ABCDE-FGHJK-MNPQR-STVWX-YZ01";

    fn valid() -> ActivationCode {
        ActivationCode::from_payload("ABCDEFGHJKMNPQRSTVWXYZ01").unwrap()
    }

    #[test]
    fn round_trips_through_display() {
        let code = valid();
        assert!(code.to_string().starts_with(CODE));
        assert_eq!(code.to_string().len(), 29);
        assert_eq!(code.to_string().parse::<ActivationCode>().unwrap(), code);
    }

    #[test]
    fn input_is_forgiving_about_case_aliases_and_separators() {
        let code = valid();
        let sloppy = code.compact().to_lowercase().replace('1', "l").replace('0', "o");
        assert_eq!(sloppy.parse::<ActivationCode>().unwrap(), code);
        let spaced = code.to_string().replace('-', " ");
        assert_eq!(spaced.parse::<ActivationCode>().unwrap(), code);
    }

    #[test]
    fn mistyped_symbol_fails_the_check() {
        let mut s = valid().compact().to_string();
        s.replace_range(3..4, if &s[3..4] == "D" { "E" } else { "D" });
        let err = s.parse::<ActivationCode>().unwrap_err().to_string();
        assert!(err.contains("check character"), "{err}");
    }

    #[test]
    fn wrong_length_and_symbols_are_named() {
        let err = "ABCDE".parse::<ActivationCode>().unwrap_err().to_string();
        assert!(err.contains("5 symbols"), "{err}");
        let err = "ABCDE-FGHJK-MNPQR-STVWX-YZ01U".parse::<ActivationCode>().unwrap_err().to_string();
        assert!(err.contains("'U'"), "{err}");
    }
}
