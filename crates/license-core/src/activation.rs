//! Activation codes: 24 Crockford symbols plus a Luhn mod 32 check symbol,
//! printed as five groups of five.

use crate::crockford::{CheckedCode, CodeKind};
use crate::error::Error;

/// The subscription: 24 symbols plus a check symbol, five groups of five.
pub type ActivationCode = CheckedCode<Activation>;

pub enum Activation {}

impl CodeKind for Activation {
    const LEN: usize = 25;
    const TYPE_NAME: &'static str = "ActivationCode";
    fn invalid(input: &str, reason: String, length: Option<crate::error::SymbolCount>) -> Error {
        Error::InvalidActivationCode { input: input.chars().take(64).collect(), reason, length }
    }
    fn article_name() -> &'static str {
        "an activation code"
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
