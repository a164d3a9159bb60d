//! Setting up: a new configuration, the demo, and the packaging assets.

use crate::exit::EXIT_OK;
use crate::output::Out;
use anyhow::{Context, Result};
use license_core::environment::config::{self, ConfigBuilder};
use license_core::trust::CommandLine;
use std::path::{Path, PathBuf};

/// Writes `config` to `path` (default: the user's configuration folder), never over
/// an existing file. A system-wide configuration keeps its state in the system's
/// state folder unless `state_dir` says otherwise.
pub fn init(path: Option<PathBuf>, config: ConfigBuilder, state_dir: Option<PathBuf>, out: &Out) -> Result<u8> {
    let path = match path {
        Some(p) => p,
        None => {
            config::candidates(None).into_iter().next().context("no configuration folder is known for this user")?
        }
    };
    if path.exists() {
        anyhow::bail!("{} already exists: edit it, or choose another path with --path", path.display());
    }
    let state_dir = state_dir.or_else(|| config::is_system_wide(&path).then(config::system_state_dir));
    // The command line is the confirmation: `init` and its flags name every change.
    config.state_dir(state_dir).propose(&path)?.confirm(&CommandLine)?.apply()?;
    out.line(&format!("wrote {}", path.display()));
    Ok(EXIT_OK)
}

pub fn demo(dir: &Path, out: &Out) -> Result<u8> {
    let path = license_core::demo::create(dir)?;
    out.line(&format!(
        "demo environment created: {}\nsample licenses to try are in {}",
        path.display(),
        dir.join("samples").display()
    ));
    Ok(EXIT_OK)
}

/// The man pages (`man/licensectl.1` and one per subcommand) and shell completions,
/// generated from the same definition as the parser, so they never drift from it.
pub fn package_assets(dir: &Path, cli: impl Fn() -> clap::Command) -> Result<u8> {
    let man = dir.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(cli(), &man)?;
    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
        clap_complete::generate_to(shell, &mut cli(), "licensectl", &completions)?;
    }
    Ok(EXIT_OK)
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PathAction {
    Add,
    Remove,
}

/// What the installers call to put the install folder on the system PATH or take
/// it off: the value is read whole, and nothing is written when it cannot be read.
#[cfg(windows)]
pub fn system_path(action: PathAction, dir: &str, out: &Out) -> Result<u8> {
    use license_core::system_path::{registry, with_entry, without_entry};
    let before = registry::read().context("the system PATH could not be read, so it was left as it was")?;
    let after = match action {
        PathAction::Add => with_entry(&before, dir),
        PathAction::Remove => without_entry(&before, dir),
    };
    if after != before {
        registry::write(&after).context("the system PATH could not be written; it is as it was")?;
    }
    out.line(&format!("system PATH: {} entries", after.split(';').filter(|e| !e.is_empty()).count()));
    Ok(EXIT_OK)
}

#[cfg(not(windows))]
pub fn system_path(_: PathAction, _: &str, _: &Out) -> Result<u8> {
    anyhow::bail!("system-path changes the Windows system PATH, for the Windows installers: on this system, add the folder to PATH in your shell's profile")
}

/// What the installers call, elevated: the machine-wide folder, where the scheduled
/// tasks' configuration lives, belongs to the administrators (a standard user may
/// read it, and can plant nothing in it).
#[cfg(windows)]
pub fn system_folder(dir: Option<PathBuf>, out: &Out) -> Result<u8> {
    let dir = dir.unwrap_or_else(config::system_folder);
    license_core::acl::make_machine_folder(&dir, license_core::sddl::MACHINE_FOLDER)
        .with_context(|| format!("{} could not be made the administrators' folder", dir.display()))?;
    out.line(&format!("{}: owned by Administrators; Users may read it", dir.display()));
    Ok(EXIT_OK)
}

#[cfg(not(windows))]
pub fn system_folder(_: Option<PathBuf>, _: &Out) -> Result<u8> {
    anyhow::bail!("system-folder prepares the Windows machine-wide folder, for the Windows installers")
}
