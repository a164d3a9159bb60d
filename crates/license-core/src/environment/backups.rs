//! Backups of installed licenses. Each backup is the exact file bytes, named
//! `<taken-at>-<sha256 prefix>.lic` so its integrity can be checked from its name.
//! The folder is the source of truth; `manifest.json` only adds why a backup was
//! taken, so a crash between the two loses no backup.

use crate::digest::sha256_hex;
use crate::error::Error;
use crate::fs::{self, Links};
use crate::keys::KeyRing;
use crate::payload::{License, Payload};
use crate::timestamp::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.json";
const EXT: &str = "lic";

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupEntry {
    pub id: String,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub taken_at: Timestamp,
    pub reason: BackupReason,
    pub sha256: String,
    pub license_id: Option<uuid::Uuid>,
    pub customer: Option<String>,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    /// False when the bytes no longer match the name: the backup was damaged.
    pub intact: bool,
    pub path: PathBuf,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// Why a backup was taken. The manifest keeps it as its text (so older manifests
/// read the same); the UI words each kind itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupReason {
    /// "Back up now", or `licensectl backup`.
    OnDemand,
    /// The license that an install replaced.
    BeforeInstall,
    /// A staged renewal, just installed at its start: kept at once, so that the day
    /// it takes effect brings no "no backup of the installed license" warning.
    StagedInstalled,
    /// The license that restoring the backup `backup_id` replaced.
    BeforeRestore { backup_id: String },
    /// Anything else in the manifest, or "backup" when it records none.
    Other { text: String },
}

impl BackupReason {
    const ON_DEMAND: &'static str = "on demand";
    const BEFORE_INSTALL: &'static str = "before install";
    const STAGED_INSTALLED: &'static str = "staged renewal installed";
    const BEFORE_RESTORE: &'static str = "before restore of ";

    fn from_text(text: &str) -> BackupReason {
        match text {
            Self::ON_DEMAND => BackupReason::OnDemand,
            Self::BEFORE_INSTALL => BackupReason::BeforeInstall,
            Self::STAGED_INSTALLED => BackupReason::StagedInstalled,
            _ => match text.strip_prefix(Self::BEFORE_RESTORE) {
                Some(id) => BackupReason::BeforeRestore { backup_id: id.to_string() },
                None => BackupReason::Other { text: text.to_string() },
            },
        }
    }

    fn recorded(manifest: &Manifest, id: &str) -> BackupReason {
        manifest.reasons.get(id).map_or_else(|| BackupReason::Other { text: "backup".into() }, |t| Self::from_text(t))
    }
}

/// The manifest's text, which licensectl shows too.
impl std::fmt::Display for BackupReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupReason::OnDemand => f.write_str(Self::ON_DEMAND),
            BackupReason::BeforeInstall => f.write_str(Self::BEFORE_INSTALL),
            BackupReason::StagedInstalled => f.write_str(Self::STAGED_INSTALLED),
            BackupReason::BeforeRestore { backup_id } => write!(f, "{}{backup_id}", Self::BEFORE_RESTORE),
            BackupReason::Other { text } => f.write_str(text),
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Manifest {
    reasons: BTreeMap<String, String>,
}

pub struct Backups<'a> {
    pub dir: &'a Path,
    pub vendor_keys: &'a KeyRing,
}

impl Backups<'_> {
    fn manifest(&self) -> Manifest {
        fs::read_capped(&self.dir.join(MANIFEST), crate::kind::MAX_FILE_BYTES, Links::Refuse)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Stores `bytes` unless an intact backup of the same bytes exists, and returns
    /// the entry. The file is durable before this returns.
    /// `mode`: the permission bits the backup gets (the license file's own).
    pub fn store(
        &self,
        bytes: &[u8],
        reason: &BackupReason,
        now: Timestamp,
        mode: Option<u32>,
    ) -> Result<BackupEntry, Error> {
        fs::ensure_dir(self.dir)?;
        let sha = sha256_hex(bytes);
        if let Some(existing) = self.list()?.into_iter().find(|b| b.sha256 == sha && b.intact) {
            return Ok(existing);
        }
        let id = format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &sha[..12]);
        let path = self.dir.join(format!("{id}.{EXT}"));
        fs::replace_as(&path, bytes, "backup", mode)?;
        // Verified: read back what is on disk before anything relies on it.
        let back = fs::read_capped(&path, crate::kind::MAX_FILE_BYTES, Links::Refuse)?;
        if sha256_hex(&back) != sha {
            return Err(Error::io(
                "verify the backup",
                &path,
                std::io::Error::other("the backup did not read back identically"),
            ));
        }
        fs::crash_point("backup:stored");
        let mut m = self.manifest();
        m.reasons.insert(id.clone(), reason.to_string());
        fs::replace(
            &self.dir.join(MANIFEST),
            &serde_json::to_vec_pretty(&m).expect("manifest serialises"),
            "manifest",
        )?;
        self.get(&id)
    }

    /// All backups, newest first.
    pub fn list(&self) -> Result<Vec<BackupEntry>, Error> {
        let entries = match std::fs::read_dir(self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list the backup folder", self.dir, e)),
        };
        let manifest = self.manifest();
        let mut out: Vec<BackupEntry> = entries
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let id = path.file_name()?.to_str()?.strip_suffix(&format!(".{EXT}"))?.to_string();
                (!id.starts_with('.')).then(|| self.entry(id, path, &manifest))
            })
            .flatten()
            .collect();
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    pub fn get(&self, id: &str) -> Result<BackupEntry, Error> {
        let valid_id = id.len() < 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let path = self.dir.join(format!("{id}.{EXT}"));
        if !valid_id || std::fs::symlink_metadata(&path).is_err() {
            return Err(Error::NoSuchBackup { id: id.chars().take(64).collect() });
        }
        self.entry(id.to_string(), path, &self.manifest()).ok_or_else(|| Error::NoSuchBackup { id: id.into() })
    }

    /// The bytes of an intact backup.
    pub fn read(&self, id: &str) -> Result<Vec<u8>, Error> {
        let entry = self.get(id)?;
        let bytes = fs::read_capped(&entry.path, crate::kind::MAX_FILE_BYTES, Links::Refuse)?;
        if !entry.intact || sha256_hex(&bytes) != entry.sha256 {
            return Err(Error::io(
                "restore from",
                &entry.path,
                std::io::Error::other(
                    "the backup is damaged: its contents do not match its name; choose another backup",
                ),
            ));
        }
        Ok(bytes)
    }

    fn entry(&self, id: String, path: PathBuf, manifest: &Manifest) -> Option<BackupEntry> {
        let (stamp, sha_prefix) = id.rsplit_once('-')?;
        let taken_at = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?.and_utc();
        // Only a regular file within the document limit is read; anything else (a
        // pipe, a link to a device, a huge file) is listed as damaged, never waited on.
        let bytes = match fs::read_capped(&path, crate::kind::MAX_FILE_BYTES, Links::Refuse) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "damaged backup");
                let reason = BackupReason::recorded(manifest, &id);
                return Some(BackupEntry {
                    reason,
                    intact: false,
                    license_id: None,
                    customer: None,
                    expires_at: None,
                    sha256: String::new(),
                    taken_at,
                    id,
                    path,
                });
            }
        };
        let sha = sha256_hex(&bytes);
        // Backups are shown even when their signature no longer verifies (say, a
        // retired vendor key): the bytes are what the administrator may need back.
        let lic = crate::document::Envelope::parse(crate::kind::DocumentKind::License, &bytes)
            .ok()
            .and_then(|e| License::from_json(e.payload()).ok().map(|l| (e, l)))
            .map(|(e, l)| (e.verify(self.vendor_keys, "vendor").is_ok(), l));
        Some(BackupEntry {
            reason: BackupReason::recorded(manifest, &id),
            intact: sha.starts_with(sha_prefix),
            license_id: lic.as_ref().map(|(_, l)| l.license_id),
            customer: lic.as_ref().map(|(_, l)| l.customer.clone()),
            expires_at: lic.as_ref().and_then(|(_, l)| l.expires_at),
            sha256: sha,
            taken_at,
            id,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifest keeps the reasons as text: each reads back as the kind it was,
    /// and text from an older manifest stays as it is.
    #[test]
    fn reasons_read_back_from_their_text() {
        let all = [
            BackupReason::OnDemand,
            BackupReason::BeforeInstall,
            BackupReason::BeforeRestore { backup_id: "20261201T100000Z-0123456789ab".into() },
            BackupReason::Other { text: "copied by hand".into() },
        ];
        for r in all {
            assert_eq!(BackupReason::from_text(&r.to_string()), r);
        }
        assert_eq!(BackupReason::BeforeInstall.to_string(), "before install", "the text licensectl has always shown");
        let none = BackupReason::recorded(&Manifest::default(), "20261201T100000Z-0123456789ab");
        assert_eq!(none, BackupReason::Other { text: "backup".into() });
    }
}
