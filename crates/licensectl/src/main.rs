//! `licensectl`: License Manager for headless servers. Every command is a thin
//! layer over `license-core`; this file owns only argument parsing, prompts, output
//! and exit codes.

/// `println!` and `print!` for standard output, except that a reader that went away
/// (`licensectl … | head`) ends the process quietly instead of with a panic.
macro_rules! outln {
    ($($t:tt)*) => { $crate::output::stdout(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! out {
    ($($t:tt)*) => { $crate::output::stdout(format_args!($($t)*)) };
}

mod commands;
mod exit;
mod output;

use anyhow::Result;
use clap::{Parser, Subcommand};
use commands::{audit, install, local, monitor, portal, release, renew, request, setup, transfer, vendor};
use exit::EXIT_ERROR;
use license_core::environment::monitor::Thresholds;
use license_core::{EnvironmentType, PortalUrl};
use output::Out;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "licensectl",
    version,
    about = "Keep this environment's platform license right: verify, install, back up, restore."
)]
struct Cli {
    /// Environment configuration (default: $LICENSE_MANAGER_CONFIG, then the user's
    /// and the system's configuration folder).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Portal URL (default: $LICENSE_MANAGER_PORTAL, then portal_url from the
    /// configuration). https, or plain http only to this machine.
    #[arg(long, global = true, value_name = "URL")]
    portal: Option<PortalUrl>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum StagedAction {
    /// Remove the staged renewal (damaged or not); the installed license is not touched.
    Remove,
}

#[derive(Subcommand)]
enum Command {
    /// Print this environment's serial number.
    Serial {
        /// Show which facts produced it.
        #[arg(long)]
        explain: bool,
        /// Compute it from a facts file (key=value lines) instead of this host.
        #[arg(long, value_name = "FILE")]
        facts: Option<PathBuf>,
    },
    /// Run every check on a license file; exit 0 only when it is installable here.
    Verify {
        file: PathBuf,
        /// A trusted vendor public key (base64url); repeatable. Added to the configuration's keys.
        #[arg(long = "vendor-key", value_name = "KEY", allow_hyphen_values = true)]
        vendor_keys: Vec<String>,
        /// Check against this serial number instead of the environment's.
        #[arg(long)]
        serial: Option<String>,
        /// Compute the serial number from a facts file.
        #[arg(long, value_name = "FILE", conflicts_with = "serial")]
        facts: Option<PathBuf>,
        /// Check against this environment type instead of the configured one.
        #[arg(long = "environment-type", value_name = "TYPE")]
        environment_type: Option<String>,
    },
    /// Show the environment, its serial number and the installed license.
    Status,
    /// Back up the installed license now.
    Backup,
    /// List backups, newest first.
    Backups,
    /// Monitoring check (Nagios, Icinga, Zabbix, Checkmk): one status line with
    /// performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Check {
        /// WARNING when the license expires within DAYS.
        #[arg(long, value_name = "DAYS", default_value_t = Thresholds::DEFAULT.warning_days)]
        warning: i64,
        /// CRITICAL when the license expires within DAYS.
        #[arg(long, value_name = "DAYS", default_value_t = Thresholds::DEFAULT.critical_days)]
        critical: i64,
        /// WARNING when an audit has waited in the outbox longer than DAYS.
        #[arg(long = "audit-age", value_name = "DAYS", default_value_t = Thresholds::DEFAULT.audit_age_days)]
        audit_age: i64,
        /// WARNING when consumption reaches PERCENT of an entitlement (CRITICAL over
        /// it; a WARNING too when the audits' trend reaches it before expiry).
        #[arg(long = "usage-warning", value_name = "PERCENT", default_value_t = Thresholds::DEFAULT.usage_warning_percent,
              value_parser = clap::value_parser!(u64).range(1..=100))]
        usage_warning: u64,
    },
    /// The environment's figures in the Prometheus text format (node_exporter's
    /// textfile collector).
    Metrics {
        /// Write them to FILE atomically instead of printing them.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Show the clock check: the system time, the latest time this environment saw, and whether it is trusted.
    Clock {
        /// The system clock is right: forget a remembered time that is far ahead of it.
        #[arg(long)]
        accept: bool,
    },
    /// Check a license file, back up the current license, and install it atomically.
    /// A license that starts in the future is staged instead, and installed at its
    /// start by the next `check` or `status` (see `licensectl staged`).
    Install {
        file: PathBuf,
        /// Accept warnings (changed activation code, downgrade) without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show the staged renewal (a license installed before its start time), or remove it.
    Staged {
        #[command(subcommand)]
        action: Option<StagedAction>,
    },
    /// Automatic renewal (where connected): within --days of expiry, ask the portal
    /// for this serial's current license and install or stage it when it is newer and
    /// passes every check. A changed subscription or type, a downgrade or a suspect
    /// clock waits for a person (exit 3); a refused answer exits 1.
    Renew {
        /// Ask the portal only within this many days of expiry.
        #[arg(long, value_name = "DAYS", default_value_t = license_core::environment::renewal::RENEW_WITHIN_DAYS)]
        days: i64,
        /// Say what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds to wait for each portal request.
        #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: u64,
        /// Show the history of renewal runs instead.
        #[arg(long, conflicts_with_all = ["dry_run"])]
        history: bool,
    },
    /// Reinstall a backup (same checks as install, a backup of the current one first).
    Restore {
        /// The backup's id, as `licensectl backups` lists it.
        id: String,
        /// Accept warnings (changed activation code, downgrade) without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Write a new environment configuration.
    Init {
        /// Where to write it (default: the user's configuration folder).
        #[arg(long, value_name = "FILE")]
        path: Option<PathBuf>,
        #[arg(long)]
        name: String,
        #[arg(long = "type", value_name = "TYPE")]
        environment_type: EnvironmentType,
        #[arg(long, value_name = "FILE")]
        license_file: PathBuf,
        #[arg(long, value_name = "DIR")]
        backup_dir: PathBuf,
        #[arg(long = "vendor-key", value_name = "KEY", allow_hyphen_values = true)]
        vendor_keys: Vec<String>,
        #[arg(long)]
        portal_url: Option<PortalUrl>,
        /// Where the environment keeps its key, outbox and records (default: for the
        /// system-wide configuration /var/lib/license-manager, on Windows under
        /// ProgramData; otherwise beside the license file).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Create the demo environment (its own vendor key, an installed license, sample files).
    Demo { dir: PathBuf },
    /// Talk to the portal: token, registration, license download.
    #[command(subcommand)]
    Portal(portal::PortalCommand),
    /// License consumption audits: generate, upload, history.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// License requests for air-gapped environments.
    #[command(subcommand)]
    Request(request::RequestCommand),
    /// One file that carries the papers of many environments across an air gap and back.
    #[command(subcommand)]
    Transfer(transfer::TransferCommand),
    /// Vendor-side tools: make signing keys and issue licenses (for tests and demos).
    #[command(subcommand)]
    Vendor(vendor::VendorCommand),
    /// Check a release before installing it: the signature of SHA256SUMS with the
    /// vendor's release key, then the SHA-256 of every file it lists.
    VerifyRelease {
        /// The folder with the release's files, SHA256SUMS and SHA256SUMS.sig.
        dir: PathBuf,
        /// The release public key: a PEM file, or the key itself (base64url).
        #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
        key: String,
    },
    /// Packaging: write the man pages and the bash, zsh and fish completions into DIR.
    #[command(hide = true)]
    PackageAssets { dir: PathBuf },
    /// Installers (Windows): add DIR to the system PATH, or remove it, read and
    /// written whole (an NSIS string holds only 1,024 characters).
    #[command(hide = true)]
    SystemPath {
        #[arg(value_enum)]
        action: setup::PathAction,
        dir: String,
    },
    /// Installers (Windows): create the machine-wide folder (%ProgramData%\License
    /// Manager), or DIR, owned by Administrators, with a protected DACL:
    /// Administrators and SYSTEM change it, Users read it.
    #[command(hide = true)]
    SystemFolder {
        /// Another folder to protect the same way (a custom install folder).
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICENSE_MANAGER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: not in a pipe, a file or the journal.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match run(cli, &out) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            out.error(&e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// One call per subcommand; each lives in `commands/`.
fn run(cli: Cli, out: &Out) -> Result<u8> {
    let cfg = cli.config.as_deref();
    let portal_url = cli.portal.as_ref();
    let optional = || commands::optional_environment(cfg);
    match cli.command {
        Command::Serial { explain, facts } => local::serial(optional()?, explain, facts, out),
        Command::Verify { file, vendor_keys, serial, facts, environment_type } => {
            local::verify(optional()?, &file, vendor_keys, serial, facts, environment_type, out)
        }
        Command::Status => local::status(&commands::environment(cfg)?, out),
        Command::Backup => local::backup(&commands::environment(cfg)?, out),
        Command::Backups => local::backups(&commands::environment(cfg)?, out),
        Command::Clock { accept } => local::clock(&commands::environment(cfg)?, accept, out),
        Command::Check { warning, critical, audit_age, usage_warning } => {
            let t = Thresholds {
                warning_days: warning,
                critical_days: critical,
                audit_age_days: audit_age,
                usage_warning_percent: usage_warning,
            };
            Ok(monitor::check(cfg, &t, out))
        }
        Command::Metrics { out: file } => monitor::metrics(&commands::environment(cfg)?, file.as_deref()),
        Command::Install { file, yes } => install::install(&commands::environment(cfg)?, &file, yes, out),
        Command::Staged { action } => {
            local::staged(&commands::environment(cfg)?, matches!(action, Some(StagedAction::Remove)), out)
        }
        Command::Renew { history: true, .. } => renew::history(&commands::environment(cfg)?, out),
        Command::Renew { days, dry_run, timeout, history: false } => {
            let options = license_core::environment::renewal::RenewOptions { within_days: days, dry_run };
            let args = renew::RenewArgs { options, timeout: std::time::Duration::from_secs(timeout) };
            renew::run(&commands::environment(cfg)?, &args, portal_url, out)
        }
        Command::Restore { id, yes } => install::restore(&commands::environment(cfg)?, &id, yes, out),
        Command::Init {
            path,
            name,
            environment_type,
            license_file,
            backup_dir,
            vendor_keys,
            portal_url,
            state_dir,
        } => {
            let config = license_core::environment::Config::new(name, environment_type, license_file, backup_dir)
                .portal_url(portal_url)
                .vendor_keys(vendor_keys);
            setup::init(path, config, state_dir, out)
        }
        Command::Demo { dir } => setup::demo(&dir, out),
        Command::SystemPath { action, dir } => setup::system_path(action, &dir, out),
        Command::SystemFolder { dir } => setup::system_folder(dir, out),
        Command::PackageAssets { dir } => setup::package_assets(&dir, <Cli as clap::CommandFactory>::command),
        Command::VerifyRelease { dir, key } => release::verify(&dir, key, out),
        Command::Vendor(cmd) => vendor::run(cmd, out),
        Command::Portal(cmd) => portal::run(cmd, optional()?, portal_url, out),
        Command::Audit(cmd) => audit::run(cmd, optional()?, portal_url, out),
        Command::Request(cmd) => request::run(cmd, optional()?, portal_url, out),
        Command::Transfer(cmd) => transfer::run(cmd, optional()?, portal_url, out),
    }
}
