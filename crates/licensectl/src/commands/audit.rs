//! `licensectl audit`: generate the signed consumption file, upload it (or files
//! made elsewhere), and show the outbox and the upload history.

use super::portal::{client, needs_environment, runtime};
use crate::exit::EXIT_OK;
use crate::output::Out;
use anyhow::{bail, Result};
use clap::Subcommand;
use license_core::environment::{audit_view, audits};
use license_core::run::InPlace;
use license_core::{fs, Environment, PortalUrl};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Generate the signed audit file of current consumption (kept in the outbox).
    Generate {
        /// Also save a copy here, to carry to a connected machine.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Upload the outbox, or the given audit files (e.g. made on another machine).
    Upload { files: Vec<PathBuf> },
    /// Audits waiting to be uploaded.
    Outbox,
    /// Upload history: this machine's, merged with the portal's when reachable.
    History,
}

pub fn run(cmd: AuditCommand, env: Option<Environment>, flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    // A connected machine may upload files made elsewhere without an environment.
    if let (AuditCommand::Upload { files }, None) = (&cmd, &env) {
        return upload_elsewhere(files, flag, out);
    }
    // Shared with the upload flow's blocking steps.
    let env = Arc::new(needs_environment(env)?);
    match cmd {
        AuditCommand::Generate { out: copy } => {
            let g = env.generate_audit()?;
            if let Some(p) = &copy {
                fs::replace(p, g.text.as_bytes(), "audit-copy")?;
            }
            out.generated_audit(&g, copy.as_deref());
        }
        AuditCommand::Upload { files } if files.is_empty() => upload_outbox(&env, flag, out)?,
        AuditCommand::Upload { files } => {
            let rt = runtime()?;
            let c = client(Some(&env), flag)?;
            for f in files {
                out.uploaded(&f, &rt.block_on(audits::upload_file(&env, &c, &f, &InPlace))?);
            }
        }
        AuditCommand::Outbox => {
            let files = env.outbox()?;
            out.value(&files, || files.iter().map(|f| format!("{}\n", f.display())).collect());
        }
        AuditCommand::History => {
            // The core's view, as the app's Audit page reads it.
            let url = super::portal::portal_url(Some(&env), flag).ok();
            let view = runtime()?.block_on(audit_view::audit_view(&env, url, &InPlace))?;
            out.history(&view.history, view.portal_error.as_ref());
        }
    }
    Ok(EXIT_OK)
}

/// Without an environment: audit files made on other machines, each checked before
/// it is sent.
fn upload_elsewhere(files: &[PathBuf], flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    if files.is_empty() {
        bail!("no environment (pass --config) and no files to upload");
    }
    let rt = runtime()?;
    let c = client(None, flag)?;
    for f in files {
        let bytes = fs::read_document(f)?;
        <license_core::Audit as license_core::SelfSigned>::open(&bytes)?;
        out.uploaded(f, &rt.block_on(c.upload_audit(&bytes))?);
    }
    Ok(EXIT_OK)
}

/// Every audit in the outbox, oldest first; what is not sent stays for the next run.
fn upload_outbox(env: &Arc<Environment>, flag: Option<&PortalUrl>, out: &Out) -> Result<()> {
    let c = client(Some(env), flag)?;
    let progress = &mut |i, n| out.progress("uploading", i, n);
    let (done, failed) = runtime()?.block_on(audits::flush_outbox(env, &c, &InPlace, progress));
    out.value(&done, || done.iter().map(|r| format!("{} {}\n", r.upload_id, r.status)).collect());
    match failed {
        Some(e) => Err(anyhow::Error::from(e).context(format!(
            "the outbox keeps {} for the next upload",
            license_core::count(env.outbox()?.len(), "audit")
        ))),
        None => Ok(()),
    }
}
