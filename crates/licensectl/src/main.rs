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

mod output;
mod portal_cmds;
mod transfer_cmds;
mod vendor;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use license_core::environment::monitor::Thresholds;
use license_core::environment::{config, Config, InstallOptions};
use license_core::serial::HostFacts;
use license_core::{
    check_license, Environment, EnvironmentType, Error, Expectations, KeyRing, PortalUrl, SerialNumber,
};
use output::Out;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes, documented in the README.
pub const EXIT_OK: u8 = 0;
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
pub const EXIT_NEEDS_CONFIRMATION: u8 = 3;

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
    Install {
        file: PathBuf,
        /// Accept warnings (changed activation code, downgrade) without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Reinstall a backup (same checks as install).
    Restore {
        id: String,
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
    Portal(portal_cmds::PortalCommand),
    /// License consumption audits: generate, upload, history.
    #[command(subcommand)]
    Audit(portal_cmds::AuditCommand),
    /// License requests for air-gapped environments.
    #[command(subcommand)]
    Request(portal_cmds::RequestCommand),
    /// One file that carries the papers of many environments across an air gap and back.
    #[command(subcommand)]
    Transfer(transfer_cmds::TransferCommand),
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

fn environment(cli_config: Option<&Path>) -> Result<Environment> {
    let path = config::locate(cli_config)?;
    Ok(Environment::open(&path)?)
}

/// The environment if one is configured; a configuration that exists but is broken
/// is an error, never silently skipped.
fn optional_environment(cli_config: Option<&Path>) -> Result<Option<Environment>> {
    match config::locate(cli_config) {
        Ok(path) => Ok(Some(Environment::open(&path)?)),
        Err(Error::NoConfig { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn run(cli: Cli, out: &Out) -> Result<u8> {
    let cfg = cli.config.as_deref();
    match cli.command {
        Command::Serial { explain, facts } => {
            let env = optional_environment(cfg)?;
            let own_facts = facts.is_none();
            let e = match (facts, &env) {
                (Some(f), _) => HostFacts::read(&f)?.explain(&f.display().to_string())?,
                (None, Some(env)) => env.serial()?,
                (None, None) => license_core::serial::host_explanation()?,
            };
            // With an environment: compare with the installed license, and say which
            // fact changed when they differ.
            let licensed = match (explain && own_facts, &env) {
                (true, Some(env)) => env.installed().ok().map(|l| (l.serial_number.to_string(), env.serial_drift())),
                _ => None,
            };
            out.serial(&e, explain, licensed);
            Ok(EXIT_OK)
        }
        Command::Verify { file, vendor_keys, serial, facts, environment_type } => {
            let bytes = license_core::fs::read_document(&file)?;
            let env = optional_environment(cfg)?;
            let mut ring: Vec<String> = env.as_ref().map(|e| e.config.vendor_keys.clone()).unwrap_or_default();
            ring.extend(vendor_keys);
            let ring = KeyRing::parse(&ring)?;
            let serial_number: Option<SerialNumber> = match (serial, facts, &env) {
                (Some(s), _, _) => Some(s.parse()?),
                (_, Some(f), _) => Some(HostFacts::read(&f)?.serial_number()?),
                (_, _, Some(env)) => env.serial().ok().map(|e| e.serial_number),
                _ => license_core::serial::host_explanation().ok().map(|e| e.serial_number),
            };
            let environment_type: Option<EnvironmentType> = match environment_type {
                Some(t) => Some(t.parse().map_err(anyhow::Error::msg)?),
                None => env.as_ref().map(|e| e.config.environment_type),
            };
            let now = env.as_ref().map(|e| e.clock().effective_now()).unwrap_or_else(chrono::Utc::now);
            let installed = env.as_ref().and_then(|e| e.installed().ok());
            let report =
                check_license(&bytes, &ring, &Expectations { serial_number, environment_type, installed, now });
            out.report(&file, &report);
            Ok(if report.installable { EXIT_OK } else { EXIT_REFUSED })
        }
        Command::Status => {
            out.overview(&environment(cfg)?.overview()?);
            Ok(EXIT_OK)
        }
        Command::Backup => {
            let env = environment(cfg)?;
            match env.backup_now("on demand")? {
                Some(b) => out.backup_taken(&b),
                None => return Err(Error::NothingInstalled.into()),
            }
            Ok(EXIT_OK)
        }
        Command::Backups => {
            out.backups(&environment(cfg)?.backups().list()?);
            Ok(EXIT_OK)
        }
        Command::Check { warning, critical, audit_age } => {
            let t = Thresholds { warning_days: warning, critical_days: critical, audit_age_days: audit_age };
            // Whatever keeps the check from running is UNKNOWN, never an OK by omission.
            match environment(cfg).and_then(|env| Ok(env.health(&t)?)) {
                Ok(h) => {
                    out.value(&h, || {
                        let mut text = format!("{}\n", h.status_line());
                        // The plugin format's long output: every further problem on its own line.
                        for p in h.problems.iter().skip(1) {
                            text += &format!("{}: {}\n", p.severity.name(), p.text);
                        }
                        text
                    });
                    Ok(h.severity as u8)
                }
                Err(e) => {
                    outln!("LICENSE UNKNOWN - {}", e.to_string().lines().next().unwrap_or(""));
                    Ok(license_core::environment::monitor::Severity::Unknown as u8)
                }
            }
        }
        Command::Metrics { out: file } => {
            let text = environment(cfg)?.metrics()?;
            match file {
                Some(f) => license_core::fs::replace(&f, text.as_bytes(), "metrics")?,
                None => out!("{text}"),
            }
            Ok(EXIT_OK)
        }
        Command::Clock { accept } => {
            let env = environment(cfg)?;
            let r = if accept { env.accept_clock()? } else { env.clock() };
            out.value(&r, || {
                let mut t = format!(
                    "system time   {}\nlatest seen   {}\njudged by     {}\n",
                    license_core::timestamp::format(&r.system_time),
                    license_core::timestamp::format(&r.latest_seen),
                    license_core::timestamp::format(&r.effective_now())
                );
                if let Some(w) = &r.warning {
                    t += &format!("warning: {w}\n");
                }
                t
            });
            Ok(EXIT_OK)
        }
        Command::Install { file, yes } => {
            let env = environment(cfg)?;
            let bytes = license_core::fs::read_document(&file)?;
            apply(out, &env, yes, |env, opts| env.install(&bytes, opts, &mut |s| out.step(s)))
        }
        Command::Restore { id, yes } => {
            let env = environment(cfg)?;
            apply(out, &env, yes, |env, opts| env.restore(&id, opts, &mut |s| out.step(s)))
        }
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
            let path = match path {
                Some(p) => p,
                None => config::candidates(None)
                    .into_iter()
                    .next()
                    .context("no configuration folder is known for this user")?,
            };
            if path.exists() {
                anyhow::bail!("{} already exists: edit it, or choose another path with --path", path.display());
            }
            let state_dir = state_dir.or_else(|| config::is_system_wide(&path).then(config::system_state_dir));
            Config::new(name, environment_type, license_file, backup_dir)
                .portal_url(portal_url)
                .vendor_keys(vendor_keys)
                .state_dir(state_dir)
                .write(&path)?;
            out.line(&format!("wrote {}", path.display()));
            Ok(EXIT_OK)
        }
        Command::Demo { dir } => {
            let path = license_core::demo::create(&dir)?;
            out.line(&format!(
                "demo environment created: {}\nsample licenses to try are in {}",
                path.display(),
                dir.join("samples").display()
            ));
            Ok(EXIT_OK)
        }
        Command::Vendor(cmd) => vendor::run(cmd, out),
        Command::Portal(cmd) => portal_cmds::portal(cmd, optional_environment(cfg)?, cli.portal.as_ref(), out),
        Command::Audit(cmd) => portal_cmds::audit(cmd, optional_environment(cfg)?, cli.portal.as_ref(), out),
        Command::VerifyRelease { dir, key } => {
            // A key file (regular files only, capped), else the key itself.
            use license_core::fs::{read_capped, Links};
            let text = match read_capped(Path::new(&key), 64 * 1024, Links::Follow) {
                Ok(pem) => String::from_utf8(pem).map_err(|_| anyhow::anyhow!("{key} is not a PEM text file"))?,
                Err(_) => key,
            };
            let checks = license_core::release::verify(&dir, &license_core::PublicKey::parse_any(&text)?)?;
            let bad = checks.iter().filter(|c| c.verdict != license_core::release::FileVerdict::Ok).count();
            out.value(&checks, || {
                let mut s: String = checks
                    .iter()
                    .map(|c| format!("{:<9} {}\n", verdict_word(c.verdict), license_core::printable(&c.name)))
                    .collect();
                s += &if bad == 0 {
                    format!("release verified: {}, signed by the release key\n", license_core::count(checks.len(), "file"))
                } else {
                    format!("release NOT verified: {} missing, altered, not in the signed list or not plain files; do not install them\n", license_core::count(bad, "file"))
                };
                s
            });
            Ok(if bad == 0 { EXIT_OK } else { EXIT_REFUSED })
        }
        Command::PackageAssets { dir } => {
            package_assets(&dir)?;
            Ok(EXIT_OK)
        }
        Command::Request(cmd) => portal_cmds::request(cmd, optional_environment(cfg)?, cli.portal.as_ref(), out),
        Command::Transfer(cmd) => transfer_cmds::run(cmd, optional_environment(cfg)?, cli.portal.as_ref(), out),
    }
}

/// The man pages (`man/licensectl.1` and one per subcommand) and shell completions,
/// generated from the same definition as the parser, so they never drift from it.
fn package_assets(dir: &Path) -> Result<()> {
    use clap::CommandFactory;
    let man = dir.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(Cli::command(), &man)?;
    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "licensectl", &completions)?;
    }
    Ok(())
}

fn verdict_word(v: license_core::release::FileVerdict) -> &'static str {
    use license_core::release::FileVerdict as V;
    match v {
        V::Ok => "OK",
        V::Mismatch => "MISMATCH",
        V::Missing => "MISSING",
        V::NotAFile => "NOT-FILE",
        V::Unlisted => "UNLISTED",
    }
}

/// Install or restore: try without confirmation; on warnings ask (or take `--yes`).
pub fn apply(
    out: &Out,
    env: &Environment,
    yes: bool,
    op: impl Fn(&Environment, InstallOptions) -> Result<license_core::environment::InstallOutcome, Error>,
) -> Result<u8> {
    let result = match op(env, InstallOptions { confirmed: yes }) {
        Err(Error::NeedsConfirmation { warnings }) if !out.json && std::io::stdin().is_terminal() => {
            eprint!("Warning: {warnings}\nInstall anyway? [y/N] ");
            std::io::stderr().flush().ok();
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if answer.trim().eq_ignore_ascii_case("y") || answer.trim().eq_ignore_ascii_case("yes") {
                op(env, InstallOptions { confirmed: true })
            } else {
                out.line("Not installed; nothing was changed.");
                return Ok(EXIT_NEEDS_CONFIRMATION);
            }
        }
        other => other,
    };
    match result {
        Ok(outcome) => {
            out.installed(&outcome);
            Ok(EXIT_OK)
        }
        Err(e @ Error::Refused { .. }) => {
            out.error(&e.into());
            Ok(EXIT_REFUSED)
        }
        Err(e @ Error::NeedsConfirmation { .. }) => {
            out.error(&anyhow::Error::from(e).context("run again with --yes to accept these warnings"));
            Ok(EXIT_NEEDS_CONFIRMATION)
        }
        Err(e) => Err(e.into()),
    }
}
