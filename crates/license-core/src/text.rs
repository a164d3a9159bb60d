//! Small rules for text the core writes or prints.

/// Untrusted text (a name from a transfer file or the portal, a member name) as it
/// may be printed: without control characters or bidirectional overrides, which in
/// a terminal or table could rewrite what the administrator sees, and at most 120
/// characters.
pub fn printable(text: &str) -> String {
    shown(text).take(120).collect()
}

fn shown(text: &str) -> impl Iterator<Item = char> + '_ {
    let hidden = |c: &char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars().filter(move |c| !hidden(c))
}

/// What another party wrote (a portal's problem title or detail), made safe to
/// show, store and log: [`printable`]'s filter, at most `max` characters, and "…"
/// where it was cut, so a hostile answer can neither drive a terminal nor flood a
/// history.
pub fn printable_capped(text: &str, max: usize) -> String {
    let mut chars = shown(text);
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// "1 audit", "2 audits": a count with its noun (the plural adds an s; nouns here
/// are regular), for every sentence the CLI and the core write.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
