//! Setting up: a new configuration, the demo, and the packaging assets.

use crate::exit::EXIT_OK;
use crate::output::Out;
use anyhow::{Context, Result};
use license_core::environment::config::{self, ConfigBuilder};
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
    config.state_dir(state_dir).write(&path)?;
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
