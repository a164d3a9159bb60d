//! What a portal token may do: the one list of permissions, which the API checks,
//! the `token` command grants and the tests ask for.

/// The spec's four, and `send_license` (ours): may have the license mailed to the
/// subscription's contacts without downloading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Permission {
    Read,
    Register,
    DownloadLicense,
    SendLicense,
    UploadAudit,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::Read,
        Permission::Register,
        Permission::DownloadLicense,
        Permission::SendLicense,
        Permission::UploadAudit,
    ];

    /// The name stored with a token and shown in a 403.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Register => "register",
            Permission::DownloadLicense => "download_license",
            Permission::SendLicense => "send_license",
            Permission::UploadAudit => "upload_audit",
        }
    }

    /// A stored name; `None` for one this portal no longer knows (it grants nothing).
    pub fn parse(name: &str) -> Option<Permission> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The command line spells each permission as the database does.
    #[test]
    fn one_spelling_everywhere() {
        for p in Permission::ALL {
            assert_eq!(p.to_possible_value().unwrap().get_name(), p.as_str());
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::value_variants().len(), Permission::ALL.len());
    }
}
