//! License Manager desktop app: the window, the state, and the command table.
//! Domain logic lives in `license-core`; see ARCHITECTURE.md. A library so tests can
//! drive the command layer without a window (`tests/corpus.rs`).

pub mod commands;
mod dialogs;
pub mod error;
pub mod state;

use license_core::environment::config;
use state::AppState;
use std::path::PathBuf;
use tauri::{Emitter, Manager, WindowEvent};

/// Command-line options: `--config FILE` opens that environment, `--demo [DIR]`
/// creates and opens the demo environment.
struct Args {
    config: Option<PathBuf>,
    demo: Option<Option<PathBuf>>,
}

fn parse_args() -> Args {
    let mut args = Args { config: None, demo: None };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => args.config = it.next().map(PathBuf::from),
            "--demo" => args.demo = Some(it.next_if(|v| !v.starts_with("--")).map(PathBuf::from)),
            _ => {}
        }
    }
    args
}

/// Runs the app (the binary's `main`).
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LICENSE_MANAGER_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args();

    tauri::Builder::default()
        .manage(AppState::default())
        .setup(move |app| {
            let state = app.state::<AppState>();
            let demo_dir = match &args.demo {
                Some(Some(dir)) => dir.clone(),
                _ => app.path().app_data_dir()?.join("demo"),
            };
            *state.demo_dir.lock().expect("state lock") = Some(demo_dir.clone());
            let opened = if args.demo.is_some() {
                license_core::demo::create(&demo_dir).map_err(|e| e.to_string()).and_then(|p| state.open(&p).map_err(|e| e.to_string()))
            } else {
                config::locate(args.config.as_deref()).map_err(|e| e.to_string()).and_then(|p| state.open(&p).map_err(|e| e.to_string()))
            };
            if let Err(e) = opened {
                tracing::warn!(error = %e, "no environment opened at start");
                state.set_error(e);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // A file dropped on the window becomes the install candidate; the
            // webview is told the outcome, never given the path to read.
            if let WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                if let Some(path) = paths.first() {
                    let state = window.state::<AppState>();
                    let result = commands::install::from_path(&state, path);
                    let _ = window.emit("candidate-dropped", result.map_err(|e| serde_json::to_value(&e).unwrap_or_default()));
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::environment::overview,
            commands::environment::open_demo,
            commands::environment::create_config,
            commands::environment::serial_qr,
            commands::install::choose_license_file,
            commands::install::paste_license,
            commands::install::current_candidate,
            commands::install::install_candidate,
            commands::install::save_license_copy,
            commands::backups::backup_now,
            commands::backups::list_backups,
            commands::backups::check_backup,
            commands::backups::restore_backup,
            commands::backups::export_backup,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::set_portal_token,
            commands::settings::clear_portal_token,
            commands::portal::usage_preview,
            commands::portal::generate_audit,
            commands::portal::save_audit_copy,
            commands::portal::upload_outbox,
            commands::portal::upload_audit_file,
            commands::portal::audit_state,
            commands::portal::register_environment,
            commands::portal::fetch_license,
            commands::portal::send_license,
            commands::portal::save_license_request,
            commands::portal::fulfil_request,
        ])
        .run(tauri::generate_context!())
        .expect("error while running License Manager");
}
