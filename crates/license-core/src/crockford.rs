//! Crockford base32 symbols and the "Luhn mod 32" check character shared by
//! activation codes and serial numbers (`shared/spec/formats.md`, "Check characters").

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
