//! Small rules for text the core writes or prints.

/// Untrusted text (a name from a transfer file or the portal, a member name) as it
/// may be printed: without control characters or bidirectional overrides, which in
/// a terminal or table could rewrite what the administrator sees, and at most 120
/// characters.
pub fn printable(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars().filter(|&c| !hidden(c)).take(120).collect()
}

/// "1 audit", "2 audits": a count with its noun (the plural adds an s; nouns here
/// are regular), for every sentence the CLI and the core write.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
