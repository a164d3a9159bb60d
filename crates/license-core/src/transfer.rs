//! The transfer file (`shared/spec/formats.md`, "Transfer file", v1.1): one ZIP that
//! carries the papers of several environments across an air gap and back.
//!
//! The archive is never trusted: [`Transfer::read`] refuses any member that breaks
//! the rules (names, links, counts, sizes), verifies every signed member on its own,
//! and checks that a member's folder names the serial its signed payload carries.
//! Nothing is extracted to disk; a transfer file is written whole and atomically.

use crate::activation::ActivationCode;
use crate::document::Envelope;
use crate::error::Error;
use crate::error::TransferDamage::{self, *};
use crate::fs::{self, Links};
use crate::keys::KeyRing;
use crate::kind::DocumentKind;
use crate::payload::{Audit, EnvironmentType, License, Payload, Receipt, Request, SelfSigned};
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;
use uuid::Uuid;

pub const MAX_MEMBERS: usize = 1000;
pub const MAX_UNPACKED: u64 = 64 * 1024 * 1024;
/// Bytes one member may take in the archive's index (its central directory): our
/// names are under 100 bytes; this leaves room for other writers' extra fields.
const MAX_INDEX_ENTRY: usize = 1024;
pub const INDEX: &str = "transfer.json";
/// What a transfer file's name ends with.
pub const SUFFIX: &str = ".transfer.zip";

/// One environment's line in `transfer.json`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferEntry {
    pub serial_number: SerialNumber,
    pub environment_type: EnvironmentType,
    pub name: String,
    pub hostname: String,
    pub activation_code: Option<ActivationCode>,
    pub license_id: Option<Uuid>,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub exported_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    format: u64,
    environments: Vec<TransferEntry>,
}

/// One environment's members, as file bytes (each verified when read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Papers {
    pub request: Option<Vec<u8>>,
    pub audits: BTreeMap<Uuid, Vec<u8>>,
    pub license: Option<Vec<u8>>,
    pub receipts: BTreeMap<Uuid, Vec<u8>>,
}

/// What the portal gave back for one paper, to be added with [`Transfer::add_answers`].
pub enum Answer {
    /// The receipt for the audit with this id.
    Receipt(Uuid, Vec<u8>),
    /// The license, and the request it answers.
    License { request: Vec<u8>, license: Vec<u8> },
}

/// A transfer file's contents, in the order of `transfer.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    pub environments: Vec<(TransferEntry, Papers)>,
}

fn bad(damage: TransferDamage, reason: impl Into<String>) -> Error {
    Error::BadTransfer { reason: reason.into(), damage }
}

/// What a fault in the archive's own index says of the file: no ZIP at all (it
/// does not begin as one), a ZIP cut short, or a structure License Manager never
/// writes.
fn archive_damage(bytes: &[u8], e: &crate::zip_index::IndexError) -> TransferDamage {
    if !bytes.starts_with(b"PK\x03\x04") {
        NotZip
    } else if e.cut_short {
        Truncated
    } else {
        Malformed
    }
}

/// Where a member belongs.
enum Member {
    Index,
    Request(SerialNumber),
    Audit(SerialNumber, Uuid),
    License(SerialNumber),
    Receipt(SerialNumber, Uuid),
    /// A folder entry (`<serial>/`, `<serial>/audits/`, `<serial>/receipts/`): allowed, ignored.
    Folder,
}

/// Classifies a member name; anything the spec does not list is refused.
fn classify(name: &str) -> Result<Member, Error> {
    if name == INDEX {
        return Ok(Member::Index);
    }
    let refuse = || bad(UnknownMember, format!("member '{}' is not one the transfer format allows", shown(name)));
    if name.starts_with('/')
        || name.contains('\\')
        || name.contains(':')
        || name.split('/').any(|c| c == ".." || c == ".")
    {
        return Err(bad(UnknownMember, format!("member '{}' has an absolute or escaping path", shown(name))));
    }
    let parts: Vec<&str> = name.split('/').collect();
    let serial = |s: &str| -> Result<SerialNumber, Error> {
        let parsed: SerialNumber = s.parse().map_err(|_| refuse())?;
        // The folder is the serial exactly as printed.
        if parsed.to_string() != s {
            return Err(refuse());
        }
        Ok(parsed)
    };
    let id = |file: &str, ext: &str| -> Result<Uuid, Error> {
        let stem = file.strip_suffix(ext).ok_or_else(refuse)?;
        let u = Uuid::parse_str(stem).map_err(|_| refuse())?;
        if u.hyphenated().to_string() != stem {
            return Err(refuse());
        }
        Ok(u)
    };
    match parts.as_slice() {
        [s, ""] => serial(s).map(|_| Member::Folder),
        [s, "audits" | "receipts", ""] => serial(s).map(|_| Member::Folder),
        [s, "request.lreq"] => Ok(Member::Request(serial(s)?)),
        [s, "license.lic"] => Ok(Member::License(serial(s)?)),
        [s, "audits", f] => Ok(Member::Audit(serial(s)?, id(f, ".audit")?)),
        [s, "receipts", f] => Ok(Member::Receipt(serial(s)?, id(f, ".receipt")?)),
        _ => Err(refuse()),
    }
}

/// Takes the transfer file's lock: an OS lock on `.<name>.lock` beside it (the file
/// itself is replaced by rename, so it cannot carry the lock). Held by every
/// read-modify-write of the file; another holder is waited for up to 30 s. The lock
/// file goes with the lock, so nothing stays on the stick ([`passing_lock`]).
fn lock(path: &Path) -> Result<crate::passing_lock::PassingLock, Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let lock = path.with_file_name(format!(".{name}.lock"));
    let held = crate::passing_lock::lock_within(&lock, fs::LOCK_WAIT, || {
        tracing::warn!(file = %path.display(), "waiting for another program that is writing this transfer file");
    })?;
    // A write killed before its rename left a hidden full copy beside the file.
    fs::remove_stale_temps_of(path);
    Ok(held)
}

/// A transfer file is named `<anything>.transfer.zip` (spec), so people and tools
/// know it; reading, writing and adding all insist on it.
fn check_name(path: &Path) -> Result<(), Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if !name.ends_with(SUFFIX) || name.len() == SUFFIX.len() {
        return Err(Error::NotATransferFile { name: shown(&name) });
    }
    Ok(())
}

fn shown(name: &str) -> String {
    crate::text::printable(name)
}

fn serial_matches(member: &str, folder: &SerialNumber, signed: &SerialNumber) -> Result<(), Error> {
    if folder != signed {
        return Err(bad(
            BadMember,
            format!("member '{member}' is in the folder of {folder} but its signed contents are for {signed}"),
        ));
    }
    Ok(())
}

/// Verifies one signed member on its own. Licenses and receipts are signed by the
/// vendor: checked against `vendor_keys` when given (an environment), else only
/// parsed (a workstation has no vendor keys; the environment checks them on import).
fn verify_member(member: &Member, name: &str, bytes: &[u8], vendor_keys: Option<&KeyRing>) -> Result<(), Error> {
    let wrap = |e: Error| bad(BadMember, format!("member '{name}': {e}"));
    let vendor_signed = |kind: DocumentKind| -> Result<Vec<u8>, Error> {
        let env = Envelope::parse(kind, bytes).map_err(wrap)?;
        if let Some(keys) = vendor_keys {
            env.verify(keys, "vendor").map_err(wrap)?;
        }
        Ok(env.payload().to_vec())
    };
    match member {
        Member::Index | Member::Folder => Ok(()),
        Member::Request(s) => serial_matches(name, s, &Request::open(bytes).map_err(wrap)?.0.serial_number),
        Member::Audit(s, id) => {
            let (a, _) = Audit::open(bytes).map_err(wrap)?;
            if a.audit_id != *id {
                return Err(bad(
                    BadMember,
                    format!("member '{name}' holds audit {}, not the one its name says", a.audit_id),
                ));
            }
            serial_matches(name, s, &a.serial_number)
        }
        Member::License(s) => {
            let l = License::from_json(&vendor_signed(DocumentKind::License)?).map_err(wrap)?;
            serial_matches(name, s, &l.serial_number)
        }
        Member::Receipt(s, id) => {
            let r = Receipt::from_json(&vendor_signed(DocumentKind::Receipt)?).map_err(wrap)?;
            if r.audit_id != *id {
                return Err(bad(
                    BadMember,
                    format!("member '{name}' is a receipt for audit {}, not the one its name says", r.audit_id),
                ));
            }
            serial_matches(name, s, &r.serial_number)
        }
    }
}

/// Every member, classified and unpacked under the caps; the index apart.
type Unpacked = (Option<Vec<u8>>, Vec<(String, Member, Vec<u8>)>);

fn unpack(bytes: &[u8]) -> Result<Unpacked, Error> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(Truncated, format!("it is not a ZIP archive, or it is truncated ({e})")))?;
    let mut index: Option<Vec<u8>> = None;
    let mut members = Vec::new();
    let mut unpacked: u64 = 0;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| bad(Truncated, format!("member {i} cannot be read ({e})")))?;
        let name =
            f.name().map_err(|_| bad(UnknownMember, format!("member {i} has a name that is not UTF-8")))?.to_string();
        if f.is_symlink() {
            return Err(bad(UnknownMember, format!("member '{}' is a link; links are not allowed", shown(&name))));
        }
        let member = classify(&name)?;
        if f.is_dir() != matches!(member, Member::Folder) {
            return Err(bad(UnknownMember, format!("member '{}' is not one the transfer format allows", shown(&name))));
        }
        let data = read_member(&mut f, &name, MAX_UNPACKED - unpacked)?;
        unpacked += data.len() as u64;
        match member {
            Member::Index => index = Some(data),
            Member::Folder => {}
            m => members.push((name, m, data)),
        }
    }
    Ok((index, members))
}

/// A member's bytes, at most `left` (what the archive may still unpack to) and never
/// more than any document. Declared sizes can lie (a zip bomb): this counts what
/// really comes out.
fn read_member(f: &mut impl Read, name: &str, left: u64) -> Result<Vec<u8>, Error> {
    let limit = left.min(crate::kind::MAX_FILE_BYTES);
    let mut data = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| bad(Checksum, format!("member '{}' is damaged ({e})", shown(name))))?;
    if data.len() as u64 <= limit {
        return Ok(data);
    }
    Err(if limit < crate::kind::MAX_FILE_BYTES {
        bad(TooLarge, format!("it unpacks to more than {} MiB", MAX_UNPACKED / (1024 * 1024)))
    } else {
        bad(
            TooLarge,
            format!("member '{}' is larger than any document ({} bytes)", shown(name), crate::kind::MAX_FILE_BYTES),
        )
    })
}

fn parse_index(index: &[u8]) -> Result<Index, Error> {
    crate::strict_json::check(index).map_err(|e| bad(BadIndex, format!("{INDEX} is not valid ({e})")))?;
    let index: Index =
        serde_json::from_slice(index).map_err(|e| bad(BadIndex, format!("{INDEX} is not valid ({e})")))?;
    if index.format != 1 {
        return Err(bad(
            BadIndex,
            format!("{INDEX} has format {}; this version reads format 1: update License Manager", index.format),
        ));
    }
    Ok(index)
}

impl Transfer {
    /// Reads and checks a transfer file; see the module documentation.
    pub fn read(path: &Path, vendor_keys: Option<&KeyRing>) -> Result<Transfer, Error> {
        check_name(path)?;
        let bytes = fs::read_capped(path, MAX_UNPACKED, Links::Follow)?;
        Self::from_bytes(&bytes, vendor_keys)
    }

    pub fn from_bytes(bytes: &[u8], vendor_keys: Option<&KeyRing>) -> Result<Transfer, Error> {
        // The archive's own index first: counts, sizes and duplicate names, bounded
        // before the ZIP library allocates for them or folds duplicates into one.
        crate::zip_index::read(bytes, MAX_MEMBERS, MAX_INDEX_ENTRY)
            .map_err(|e| bad(archive_damage(bytes, &e), e.reason))?;
        let (index, members) = unpack(bytes)?;
        // Only once every byte is counted: a bomb is refused before any parsing.
        for (name, m, data) in &members {
            verify_member(m, name, data, vendor_keys)?;
        }
        let index = parse_index(&index.ok_or_else(|| bad(BadIndex, format!("it has no {INDEX}")))?)?;
        let mut t = Transfer::default();
        for e in index.environments {
            if t.environments.iter().any(|(x, _)| x.serial_number == e.serial_number) {
                return Err(bad(BadIndex, format!("two environments have the serial number {}", e.serial_number)));
            }
            t.environments.push((e, Papers::default()));
        }
        for (name, member, data) in members {
            let serial = match &member {
                Member::Request(s) | Member::Audit(s, _) | Member::License(s) | Member::Receipt(s, _) => s.clone(),
                Member::Index | Member::Folder => unreachable!("not kept"),
            };
            let papers = t.papers_mut(&serial).ok_or_else(|| {
                bad(BadIndex, format!("member '{name}' is for {serial}, which {INDEX} does not list"))
            })?;
            match member {
                Member::Request(_) => papers.request = Some(data),
                Member::License(_) => papers.license = Some(data),
                Member::Audit(_, id) => drop(papers.audits.insert(id, data)),
                Member::Receipt(_, id) => drop(papers.receipts.insert(id, data)),
                Member::Index | Member::Folder => {}
            }
        }
        Ok(t)
    }

    pub fn papers(&self, serial: &SerialNumber) -> Option<&Papers> {
        self.environments.iter().find(|(e, _)| &e.serial_number == serial).map(|(_, p)| p)
    }

    pub fn papers_mut(&mut self, serial: &SerialNumber) -> Option<&mut Papers> {
        self.environments.iter_mut().find(|(e, _)| &e.serial_number == serial).map(|(_, p)| p)
    }

    /// Replaces that environment's entry and members, keeping the others.
    pub fn put(&mut self, entry: TransferEntry, papers: Papers) {
        match self.environments.iter_mut().find(|(e, _)| e.serial_number == entry.serial_number) {
            Some(slot) => *slot = (entry, papers),
            None => self.environments.push((entry, papers)),
        }
    }

    /// The archive's bytes: `transfer.json` first, then each environment's members in
    /// a fixed order and with a fixed time, so the same contents give the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let mut add = |name: &str, bytes: &[u8]| {
            zip.start_file(name, opts).expect("in-memory archive");
            zip.write_all(bytes).expect("in-memory archive");
        };
        let index = Index { format: 1, environments: self.environments.iter().map(|(e, _)| e.clone()).collect() };
        add(INDEX, &serde_json::to_vec_pretty(&index).expect("index serialises"));
        for (e, p) in &self.environments {
            let s = &e.serial_number;
            if let Some(r) = &p.request {
                add(&format!("{s}/request.lreq"), r);
            }
            for (id, a) in &p.audits {
                add(&format!("{s}/audits/{id}.audit"), a);
            }
            if let Some(l) = &p.license {
                add(&format!("{s}/license.lic"), l);
            }
            for (id, r) in &p.receipts {
                add(&format!("{s}/receipts/{id}.receipt"), r);
            }
        }
        zip.finish().expect("in-memory archive").into_inner()
    }

    /// How many members the archive holds: `transfer.json` and every paper.
    pub fn member_count(&self) -> usize {
        1 + self
            .environments
            .iter()
            .map(|(_, p)| {
                usize::from(p.request.is_some()) + p.audits.len() + usize::from(p.license.is_some()) + p.receipts.len()
            })
            .sum::<usize>()
    }

    /// Members once a connected machine has answered everything: each audit without
    /// a receipt gains one, each request without a license gains it.
    pub fn round_trip_members(&self) -> usize {
        let answers: usize = self
            .environments
            .iter()
            .map(|(_, p)| {
                p.audits.keys().filter(|id| !p.receipts.contains_key(id)).count()
                    + usize::from(p.request.is_some() && p.license.is_none())
            })
            .sum();
        self.member_count() + answers
    }

    /// The bytes every paper unpacks to.
    fn unpacked(&self) -> u64 {
        let papers = self.environments.iter().flat_map(|(_, p)| {
            p.request.iter().chain(p.audits.values()).chain(p.license.iter()).chain(p.receipts.values())
        });
        papers.map(|b| b.len() as u64).sum()
    }

    /// The reader's limits, applied before writing: a file is never written that
    /// [`Transfer::read`] would refuse.
    fn within_limits(&self) -> Result<(), Error> {
        let members = self.member_count();
        let unpacked = self.unpacked();
        if members > MAX_MEMBERS || unpacked > MAX_UNPACKED {
            return Err(Error::TransferFull {
                members,
                megabytes: Some(unpacked.div_ceil(1 << 20)),
                environments: self.environments.len(),
            });
        }
        Ok(())
    }

    /// Whether everything a connected machine sends back still fits: each waiting
    /// audit's receipt and each open request's license ([`Transfer::round_trip_members`]).
    /// Export checks it before writing and `process` before sending anything.
    pub fn room_for_answers(&self) -> Result<(), Error> {
        let members = self.round_trip_members();
        if members > MAX_MEMBERS {
            return Err(Error::TransferFull { members, megabytes: None, environments: self.environments.len() });
        }
        Ok(())
    }

    /// Writes the file atomically (temporary file, fsync, rename), only if it is
    /// within the reader's limits and reads back as these contents.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        check_name(path)?;
        self.within_limits()?;
        let bytes = self.to_bytes();
        // The reader's every rule, not only its counts: what we write must read.
        if let Err(e) = Transfer::from_bytes(&bytes, None) {
            return Err(bad(Malformed, format!("what would be written does not read back ({e})")));
        }
        fs::replace(path, &bytes, "transfer")
    }

    /// Adds what the portal gave back to the file at `path`. The portal work took a
    /// while: an environment may have been exported into the file meanwhile. So,
    /// under the file's lock, it is read again and each answer is added where it
    /// still answers what is there: a receipt to its waiting audit, a license to the
    /// request it answers (a newer request waits for the next run).
    pub fn add_answers(path: &Path, answers: Vec<(SerialNumber, Answer)>) -> Result<(), Error> {
        let _lock = lock(path)?;
        let mut now = Transfer::read(path, None)?;
        for (serial, answer) in answers {
            let Some(papers) = now.papers_mut(&serial) else { continue };
            match answer {
                Answer::Receipt(id, receipt) if papers.audits.contains_key(&id) => {
                    papers.receipts.insert(id, receipt);
                }
                Answer::License { request, license } if papers.request.as_ref() == Some(&request) => {
                    papers.license = Some(license);
                }
                _ => {}
            }
        }
        now.write(path)
    }

    /// Puts `licenses` in the file at `path` (new or existing), under its lock: each
    /// environment's license member is set and everything else it carries is kept;
    /// an environment the file does not carry yet gets `entry`. The connected
    /// machine's "Prepare renewals": nobody asked, so no request is answered.
    pub fn put_licenses(path: &Path, licenses: Vec<(TransferEntry, Vec<u8>)>) -> Result<Transfer, Error> {
        check_name(path)?;
        let _lock = lock(path)?;
        let mut t = Self::read_or_new(path)?;
        for (entry, license) in licenses {
            match t.papers_mut(&entry.serial_number) {
                Some(papers) => papers.license = Some(license),
                None => t.put(entry, Papers { license: Some(license), ..Papers::default() }),
            }
        }
        t.room_for_answers()?;
        t.write(path)?;
        Ok(t)
    }

    fn read_or_new(path: &Path) -> Result<Transfer, Error> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => Transfer::read(path, None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Transfer::default()),
            Err(e) => Err(Error::io("open", path, e)),
        }
    }

    /// The same file after adding or replacing one environment: an existing file is
    /// read (and must be sound) first, so a broken file is never silently replaced.
    /// The file's lock is held from the read to the write, so an export and a
    /// `process` of the same file never lose each other's work.
    ///
    /// `audits` (oldest first) go in as far as the file has room for them and their
    /// receipts; the rest wait for the next file, and their count is returned. An
    /// environment with hundreds of waiting audits still travels, oldest first.
    pub fn add_to_file(
        path: &Path,
        entry: TransferEntry,
        mut papers: Papers,
        audits: Vec<(Uuid, Vec<u8>)>,
    ) -> Result<(Transfer, usize), Error> {
        check_name(path)?;
        let _lock = lock(path)?;
        let mut t = Self::read_or_new(path)?;
        t.put(entry.clone(), papers.clone());
        // Room for the way back too: a file the connected machine could not answer
        // in full would only fail there.
        t.room_for_answers()?;
        let mut members = MAX_MEMBERS - t.round_trip_members();
        let mut bytes = MAX_UNPACKED.saturating_sub(t.unpacked());
        let total = audits.len();
        for (id, audit) in audits {
            // An audit and its receipt (smaller than the audit) travel back together.
            let size = 2 * audit.len() as u64;
            if members < 2 || size > bytes {
                break;
            }
            (members, bytes) = (members - 2, bytes - size);
            papers.audits.insert(id, audit);
        }
        let waiting = total - papers.audits.len();
        t.put(entry, papers);
        t.room_for_answers()?;
        t.write(path)?;
        Ok((t, waiting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::transfer_here::ReceiptFate;
    use crate::environment::Environment;
    use crate::keys::KeyPair;

    /// A demo environment with two audits in its outbox, and the transfer file it exports.
    fn exported() -> (tempfile::TempDir, Environment, Vec<u8>) {
        let d = tempfile::tempdir().unwrap();
        let env = Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        env.generate_audit().unwrap();
        env.generate_audit().unwrap();
        let path = d.path().join("site.transfer.zip");
        env.export_transfer(&path, true, None).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        (d, env, bytes)
    }

    /// An archive with exactly these members (name, bytes); `link` adds a symlink.
    fn zip_of(members: &[(&str, Vec<u8>)], link: Option<&str>) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (n, b) in members {
            z.start_file(*n, o).unwrap();
            z.write_all(b).unwrap();
        }
        if let Some(l) = link {
            z.add_symlink(l, "/etc/passwd", o).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn members_of(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..z.len())
            .map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut b = Vec::new();
                f.read_to_end(&mut b).unwrap();
                (f.name().unwrap().to_string(), b)
            })
            .collect()
    }

    fn refused(bytes: &[u8]) -> String {
        match Transfer::from_bytes(bytes, None) {
            Err(e @ Error::BadTransfer { .. }) => e.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn with_extra(bytes: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
        let mut m = members_of(bytes);
        m.push((name.into(), data.to_vec()));
        zip_of(&m.iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>(), None)
    }

    #[test]
    fn an_exported_file_reads_back_whole_and_writes_the_same_bytes() {
        let (_d, env, bytes) = exported();
        let t = Transfer::from_bytes(&bytes, Some(env.vendor_keys())).unwrap();
        let serial = env.serial().unwrap().serial_number;
        let p = t.papers(&serial).unwrap();
        assert_eq!((p.audits.len(), p.request.is_some(), p.license.is_none()), (2, true, true));
        assert_eq!(t.to_bytes(), bytes, "same contents, same bytes");
    }

    #[test]
    fn escaping_absolute_and_linked_members_are_refused() {
        let (_d, _env, bytes) = exported();
        assert!(refused(&with_extra(&bytes, "../x", b"x")).contains("absolute or escaping"));
        assert!(refused(&with_extra(&bytes, "/etc/cron.d/x", b"x")).contains("absolute or escaping"));
        assert!(refused(&with_extra(&bytes, "a/../../x", b"x")).contains("absolute or escaping"));
        assert!(refused(&with_extra(&bytes, "notes.txt", b"x")).contains("not one the transfer format allows"));
        let m = members_of(&bytes);
        let linked = zip_of(&m.iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>(), Some("license.lic"));
        assert!(refused(&linked).contains("is a link"));
    }

    #[test]
    fn too_many_members_and_zip_bombs_are_refused() {
        let names: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("m{i}")).collect();
        let many = zip_of(&names.iter().map(|n| (n.as_str(), Vec::new())).collect::<Vec<_>>(), None);
        assert!(refused(&many).contains("at most 1000"));
        // 65 members of 1 MiB of zeros: a small archive that unpacks past 64 MiB.
        let (_d, env, bytes) = exported();
        let serial = env.serial().unwrap().serial_number;
        let mut m = members_of(&bytes);
        for _ in 0..65 {
            m.push((
                format!("{serial}/audits/{}.audit", Uuid::new_v4()),
                vec![0u8; crate::kind::MAX_FILE_BYTES as usize],
            ));
        }
        let bomb = zip_of(&m.iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>(), None);
        assert!(bomb.len() < 1024 * 1024, "the bomb itself is small: {}", bomb.len());
        assert!(refused(&bomb).contains("more than 64 MiB"));
        let one_big = with_extra(&bytes, &format!("{serial}/audits/{}.audit", Uuid::new_v4()), &vec![b'A'; 2 << 20]);
        assert!(refused(&one_big).contains("larger than any document"));
    }

    #[test]
    fn a_transfer_file_is_named_so() {
        let (d, env, bytes) = exported();
        let e = env.export_transfer(&d.path().join("site.zip"), false, None).unwrap_err();
        assert!(e.to_string().contains(".transfer.zip"), "{e}");
        assert!(!d.path().join("site.zip").exists());
        // Reading (show, import, process) insists on the name too.
        std::fs::write(d.path().join("site.zip"), &bytes).unwrap();
        assert_eq!(
            Transfer::read(&d.path().join("site.zip"), None).unwrap_err().code(),
            crate::error::ErrorCode::NotATransferFile
        );
        assert_eq!(
            env.plan_import(&d.path().join("site.zip")).unwrap_err().code(),
            crate::error::ErrorCode::NotATransferFile
        );
        std::fs::write(d.path().join(".transfer.zip"), &bytes).unwrap();
        assert!(Transfer::read(&d.path().join(".transfer.zip"), None).is_err());
    }

    /// `bytes` with a second member named `name`: written under a stand-in name of
    /// the same length (ZIP writers refuse duplicates), then renamed in the headers.
    fn with_duplicate(bytes: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
        let stand_in = format!("{}~", &name[..name.len() - 1]);
        crate::zip_index::renamed(&with_extra(bytes, &stand_in, data), &stand_in, name)
    }

    #[test]
    fn a_member_name_twice_is_refused() {
        let (_d, _env, bytes) = exported();
        let m = members_of(&bytes);
        let index = &m.iter().find(|(n, _)| n == INDEX).unwrap().1;
        let twice = with_duplicate(&bytes, INDEX, b"{}");
        assert_eq!(zip::ZipArchive::new(Cursor::new(twice.clone())).unwrap().len(), m.len(), "the library folds them");
        assert!(refused(&twice).contains("'transfer.json' appears twice"));
        assert!(refused(&with_duplicate(&bytes, INDEX, index)).contains("appears twice"));
        let audit = m.iter().find(|(n, _)| n.contains("/audits/")).unwrap();
        assert!(refused(&with_duplicate(&bytes, &audit.0, &audit.1)).contains("appears twice"));
    }

    /// Export and process write through `write`, which applies the reader's limits
    /// first: a file that `read` would refuse is never written.
    #[test]
    fn a_file_over_the_readers_limits_is_never_written() {
        let (d, env, _bytes) = exported();
        let path = d.path().join("site.transfer.zip");
        let before = std::fs::read(&path).unwrap();
        let mut t = Transfer::read(&path, None).unwrap();
        let serial = env.serial().unwrap().serial_number;
        let papers = t.papers_mut(&serial).unwrap();
        let sample = papers.audits.values().next().unwrap().clone();
        while papers.audits.len() < MAX_MEMBERS {
            papers.audits.insert(Uuid::new_v4(), sample.clone());
        }
        assert!(t.member_count() > MAX_MEMBERS);
        let e = t.write(&path).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::TransferFull, "{e}");
        assert!(e.to_string().contains("second transfer file"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "nothing was written");
        // Within the counts, but not what the reader accepts (an audit filed under a
        // wrong id): refused before writing as well.
        let mut t = Transfer::read(&path, None).unwrap();
        t.papers_mut(&serial).unwrap().audits.insert(Uuid::new_v4(), sample);
        assert_eq!(t.write(&path).unwrap_err().code(), crate::error::ErrorCode::BadTransfer);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    fn damage(bytes: &[u8]) -> TransferDamage {
        match Transfer::from_bytes(bytes, None) {
            Err(Error::BadTransfer { damage, .. }) => damage,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Each kind of damage is told apart, so each gets its own headline.
    #[test]
    fn each_kind_of_damage_is_named() {
        let (_d, _env, bytes) = exported();
        assert_eq!(damage(b"-----BEGIN LICENSE FILE-----\n"), NotZip);
        assert_eq!(damage(&bytes[..bytes.len() / 2]), Truncated);
        assert_eq!(damage(&with_extra(&bytes, "notes.txt", b"x")), UnknownMember);
        assert_eq!(damage(&with_extra(&bytes, "../x", b"x")), UnknownMember);
        assert_eq!(damage(&flipped_in_first_member(&bytes)), Checksum);
        assert_eq!(damage(&crate::zip_index::renamed(&bytes, INDEX, "transfer.jsom")), UnknownMember);
        let m = members_of(&bytes);
        let without_index: Vec<(&str, Vec<u8>)> =
            m.iter().filter(|(n, _)| n != INDEX).map(|(n, b)| (n.as_str(), b.clone())).collect();
        assert_eq!(damage(&zip_of(&without_index, None)), BadIndex);
    }

    /// One byte of the first member's data changed: its checksum no longer holds.
    pub(crate) fn flipped_in_first_member(bytes: &[u8]) -> Vec<u8> {
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
        let data = 30 + u16_at(26) + u16_at(28);
        let mut out = bytes.to_vec();
        out[data + 1] ^= 0x55;
        out
    }

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let (_d, _env, bytes) = exported();
        assert!(refused(&bytes[..bytes.len() / 2]).contains("not a ZIP archive, or it is truncated"));
        assert!(refused(b"-----BEGIN LICENSE FILE-----\n").contains("not a ZIP archive"));
    }

    #[test]
    fn a_member_filed_under_another_serial_is_refused() {
        let (_d, env, bytes) = exported();
        let serial = env.serial().unwrap().serial_number.to_string();
        let other = crate::serial::serial_from_facts_text("machine_id=elsewhere\n").to_string();
        let moved: Vec<(String, Vec<u8>)> = members_of(&bytes)
            .into_iter()
            .map(|(n, b)| {
                if n == INDEX {
                    (n, String::from_utf8(b).unwrap().replace(&serial, &other).into_bytes())
                } else {
                    (n.replace(&serial, &other), b)
                }
            })
            .collect();
        let z = zip_of(&moved.iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>(), None);
        let e = refused(&z);
        assert!(e.contains(&format!("in the folder of {other} but its signed contents are for {serial}")), "{e}");
    }

    #[test]
    fn two_environments_with_one_serial_are_refused() {
        let (_d, _env, bytes) = exported();
        let m = members_of(&bytes);
        let (_, index) = m.iter().find(|(n, _)| n == INDEX).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(index).unwrap();
        let first = v["environments"][0].clone();
        v["environments"].as_array_mut().unwrap().push(first);
        let doubled: Vec<(&str, Vec<u8>)> = m
            .iter()
            .map(|(n, b)| (n.as_str(), if n == INDEX { serde_json::to_vec(&v).unwrap() } else { b.clone() }))
            .collect();
        assert!(refused(&zip_of(&doubled, None)).contains("two environments have the serial number"));
    }

    #[test]
    fn a_receipt_signed_by_an_unknown_key_is_refused_on_import_and_nothing_changes() {
        let (d, env, _bytes) = exported();
        let path = d.path().join("site.transfer.zip");
        let mut t = Transfer::read(&path, None).unwrap();
        let serial = env.serial().unwrap().serial_number;
        let (audit_id, audit) = t.papers(&serial).unwrap().audits.iter().next().map(|(k, v)| (*k, v.clone())).unwrap();
        let (a, _) = Audit::open(&audit).unwrap();
        let audit_sha256 = crate::document::signed_sha256(DocumentKind::Audit, &audit).unwrap();
        let receipt = |key: &KeyPair| {
            Receipt {
                format: 1,
                upload_id: Uuid::new_v4(),
                audit_id,
                activation_code: a.activation_code.clone(),
                serial_number: serial.clone(),
                audit_sha256: audit_sha256.clone(),
                status: crate::payload::UploadStatus::Verified,
                reasons: vec![],
                received_at: chrono::Utc::now(),
            }
            .seal(key)
        };
        t.papers_mut(&serial).unwrap().receipts.insert(audit_id, receipt(&KeyPair::generate()).into_bytes());
        t.write(&path).unwrap();
        let e = env.plan_import(&path).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::BadTransfer);
        assert!(e.to_string().contains("not a trusted vendor key"), "{e}");
        assert_eq!(env.outbox().unwrap().len(), 2, "nothing changed");

        // Signed by the vendor: the audit moves to the history with its receipt, once.
        let vendor = KeyPair::read(&d.path().join("vendor.key")).unwrap();
        t.papers_mut(&serial).unwrap().receipts.insert(audit_id, receipt(&vendor).into_bytes());
        // And a receipt for an audit this environment never made is skipped, with a note.
        let stranger = Uuid::new_v4();
        let mut other =
            Receipt::from_json(Envelope::parse(DocumentKind::Receipt, receipt(&vendor).as_bytes()).unwrap().payload())
                .unwrap();
        other.audit_id = stranger;
        t.papers_mut(&serial).unwrap().receipts.insert(stranger, other.seal(&vendor).into_bytes());
        t.write(&path).unwrap();
        let plan = env.plan_import(&path).unwrap();
        assert!(
            plan.notes().iter().any(|n| n.contains(&stranger.to_string()) && n.contains("skipped")),
            "{:?}",
            plan.notes()
        );
        assert_eq!(env.apply_receipts(&plan).unwrap(), 1);
        assert_eq!(env.outbox().unwrap().len(), 1);
        let line = env.merge_history(None).into_iter().find(|h| h.audit_id == Some(audit_id)).unwrap();
        assert!(line.receipt_verified);
        assert_eq!(env.apply_receipts(&env.plan_import(&path).unwrap()).unwrap(), 0, "importing again changes nothing");
        assert_eq!(env.local_history().len(), 1);
    }

    /// A receipt applies only to the audit it answers: the same id is not enough.
    /// Each forged receipt is signed by the real vendor key (as the portal signed
    /// them for anyone with a token before receipts named content and subscription).
    #[test]
    fn a_vendor_signed_receipt_for_other_content_or_subscription_moves_nothing() {
        let (d, env, _bytes) = exported();
        let path = d.path().join("site.transfer.zip");
        let vendor = KeyPair::read(&d.path().join("vendor.key")).unwrap();
        let serial = env.serial().unwrap().serial_number;
        let t = Transfer::read(&path, None).unwrap();
        let (audit_id, audit) = t.papers(&serial).unwrap().audits.iter().next().map(|(k, v)| (*k, v.clone())).unwrap();
        let (a, _) = Audit::open(&audit).unwrap();
        let genuine = Receipt {
            format: 1,
            upload_id: Uuid::new_v4(),
            audit_id,
            activation_code: a.activation_code.clone(),
            serial_number: serial.clone(),
            audit_sha256: crate::document::signed_sha256(DocumentKind::Audit, &audit).unwrap(),
            status: crate::payload::UploadStatus::Rejected,
            reasons: vec!["forged".into()],
            received_at: chrono::Utc::now(),
        };
        let other_code = ActivationCode::from_payload("ANQTHERCVSTQMERCQDE01234").unwrap();
        let forgeries = [
            (
                "content",
                Receipt { audit_sha256: crate::digest::sha256_hex(b"another audit with this id"), ..genuine.clone() },
            ),
            ("subscription", Receipt { activation_code: other_code, ..genuine.clone() }),
        ];
        for (what, forged) in forgeries {
            let mut t = t.clone();
            t.papers_mut(&serial).unwrap().receipts.insert(audit_id, forged.seal(&vendor).into_bytes());
            t.write(&path).unwrap();
            let plan = env.plan_import(&path).unwrap();
            assert_eq!(plan.receipts[0].fate, ReceiptFate::DoesNotMatch, "other {what}");
            assert!(
                plan.notes().iter().any(|n| n.contains("not applied") && n.contains(&audit_id.to_string())),
                "{:?}",
                plan.notes()
            );
            assert_eq!(env.apply_receipts(&plan).unwrap(), 0, "other {what}: nothing moves");
            assert_eq!(env.outbox().unwrap().len(), 2, "other {what}: the audit still waits");
            assert!(env.local_history().is_empty(), "other {what}: nothing recorded");
        }
        // The genuine receipt does move it.
        let mut t = t.clone();
        t.papers_mut(&serial).unwrap().receipts.insert(audit_id, genuine.seal(&vendor).into_bytes());
        t.write(&path).unwrap();
        assert_eq!(env.apply_receipts(&env.plan_import(&path).unwrap()).unwrap(), 1);
        let line = env.merge_history(None).into_iter().find(|h| h.audit_id == Some(audit_id)).unwrap();
        assert!(line.receipt_verified);
    }

    #[test]
    fn a_receipt_without_a_content_digest_is_refused() {
        let receipt = Receipt {
            format: 1,
            upload_id: Uuid::new_v4(),
            audit_id: Uuid::new_v4(),
            activation_code: ActivationCode::from_payload("TRANSFERTESTCQDE01234567").unwrap(),
            serial_number: crate::serial::serial_from_facts_text("machine_id=x\n"),
            audit_sha256: crate::digest::sha256_hex(b"audit"),
            status: crate::payload::UploadStatus::Verified,
            reasons: vec![],
            received_at: chrono::Utc::now(),
        };
        let mut j = serde_json::to_value(&receipt).unwrap();
        Receipt::from_json(&serde_json::to_vec(&j).unwrap()).unwrap();
        j["audit_sha256"] = "ABC".into();
        let e = Receipt::from_json(&serde_json::to_vec(&j).unwrap()).unwrap_err();
        assert!(e.to_string().contains("64 lower-case hex"), "{e}");
        j.as_object_mut().unwrap().remove("audit_sha256");
        let e = Receipt::from_json(&serde_json::to_vec(&j).unwrap()).unwrap_err();
        assert!(e.to_string().contains("audit_sha256"), "{e}");
    }
}
