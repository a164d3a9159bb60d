//! ASCII armor around signed documents: exactly one `-----BEGIN <KIND>-----` block
//! of padded standard base64 wrapped at 64 columns.

use crate::error::Error;
use crate::kind::DocumentKind;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::kind::MAX_FILE_BYTES;
const WRAP: usize = 64;

pub fn encode(kind: DocumentKind, content: &[u8]) -> String {
    let b64 = STANDARD.encode(content);
    let mut out = format!("-----BEGIN {}-----\n", kind.label());
    for chunk in b64.as_bytes().chunks(WRAP) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {}-----\n", kind.label()));
    out
}

fn armor_label(line: &str, edge: &str) -> Option<String> {
    line.strip_prefix(&format!("-----{edge} "))?.strip_suffix("-----").map(str::to_string)
}

/// No issued document is over [`MAX_FILE_BYTES`]: a bigger one is refused before it is
/// read or sent.
pub(crate) fn within_limit(kind: DocumentKind, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::TooLarge { what: format!("{kind} file"), size: bytes.len() as u64, limit: MAX_FILE_BYTES });
    }
    Ok(())
}

/// Bytes of a file to the decoded envelope JSON, with a specific error for each way
/// the text can be wrong.
pub fn decode(kind: DocumentKind, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    within_limit(kind, bytes)?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Error::ByteOrderMark);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::NotText { kind })?;
    let bad = |reason: &str| Error::BadArmor { kind, reason: reason.to_string() };

    // LF or CRLF; surrounding blank lines are ignored, nothing else is.
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let first = lines.iter().position(|l| !l.trim().is_empty()).ok_or(Error::NotADocument { kind })?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty()).expect("a non-blank line exists");
    let lines = &lines[first..=last];

    if lines[0].starts_with("-----BEGIN ") && lines[0].len() > 64 && lines[0].contains("-----END ") {
        return Err(bad("the line breaks are missing (they are lost when text is copied through a one-line field)"));
    }
    let begin_count = lines.iter().filter(|l| l.starts_with("-----BEGIN ")).count();
    let Some(label) = armor_label(lines[0], "BEGIN") else {
        return Err(if begin_count > 0 {
            bad("there is text before the BEGIN line")
        } else {
            Error::NotADocument { kind }
        });
    };
    if begin_count > 1 {
        return Err(Error::MultipleBlocks { kind });
    }
    if label != kind.label() {
        let shown: String = label.chars().take(40).collect();
        let known = DocumentKind::from_label(&label);
        let found = known.map(|k| k.to_string()).unwrap_or_else(|| format!("'{shown}'"));
        return Err(Error::WrongKind { expected: kind, found, known });
    }
    let end = lines
        .iter()
        .position(|l| l.starts_with("-----END "))
        .ok_or_else(|| bad("there is no END line: the file is truncated"))?;
    if armor_label(lines[end], "END").as_deref() != Some(kind.label()) {
        return Err(bad("the END line does not match the BEGIN line"));
    }
    if end != lines.len() - 1 {
        return Err(bad("there is text after the END line"));
    }
    let body = &lines[1..end];
    if body.is_empty() {
        return Err(bad("the block is empty"));
    }
    for (i, line) in body.iter().enumerate() {
        let is_last = i == body.len() - 1;
        if line.len() > WRAP || (!is_last && line.len() != WRAP) || line.is_empty() {
            return Err(bad(&format!("line {} of the block is not wrapped at 64 columns", i + 2)));
        }
    }
    STANDARD.decode(body.concat()).map_err(|_| Error::BadEncoding { part: "armored block", encoding: "padded base64" })
}

#[cfg(test)]
mod tests {
    use super::*;
    const K: DocumentKind = DocumentKind::License;

    #[test]
    fn round_trip_and_crlf() {
        let data = vec![7u8; 200];
        let text = encode(K, &data);
        assert_eq!(decode(K, text.as_bytes()).unwrap(), data);
        let crlf = format!("\r\n\r\n{}\r\n  \r\n", text.replace('\n', "\r\n"));
        assert_eq!(decode(K, crlf.as_bytes()).unwrap(), data);
    }

    #[test]
    fn each_armor_fault_has_its_own_error() {
        let text = encode(K, b"{\"x\":1}");
        let code = |t: &str| decode(K, t.as_bytes()).unwrap_err().code();
        assert_eq!(code(""), "not_a_document");
        assert_eq!(code("just some words\n"), "not_a_document", "text that is no document at all");
        assert_eq!(code(&format!("hello\n{text}")), "bad_armor");
        assert_eq!(code(&format!("{text}{text}")), "multiple_blocks");
        assert_eq!(code(&text.replace("LICENSE FILE", "LICENSE AUDIT")), "is_an_audit");
        assert_eq!(code(&text.replace("LICENSE FILE", "CERTIFICATE")), "wrong_kind");
        assert_eq!(code(&text.lines().take(2).collect::<Vec<_>>().join("\n")), "bad_armor");
        assert_eq!(code(&text.replace("eyJ4", "e!J4")), "bad_encoding");
        assert_eq!(code(&format!("\u{feff}{text}")), "byte_order_mark");
        let one_line = text.replace('\n', "");
        assert!(decode(K, one_line.as_bytes()).unwrap_err().to_string().contains("line breaks are missing"));
        assert_eq!(decode(K, &[0xff, 0xfe, 0x00]).unwrap_err().code(), "not_text");
        let huge = vec![b'A'; (MAX_FILE_BYTES + 1) as usize];
        assert_eq!(decode(K, &huge).unwrap_err().code(), "too_large");
    }

    #[test]
    fn wrong_kind_names_the_found_kind() {
        let text = encode(DocumentKind::Request, b"{}");
        let err = decode(K, text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("license request file, not a license file"), "{err}");
    }

    #[test]
    fn rewrapped_body_is_rejected() {
        let text = encode(K, &[1u8; 120]);
        let joined: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let rewrapped =
            format!("-----BEGIN LICENSE FILE-----\n{}\n{}\n-----END LICENSE FILE-----\n", &joined[..70], &joined[70..]);
        assert!(decode(K, rewrapped.as_bytes()).unwrap_err().to_string().contains("64 columns"));
    }
}
