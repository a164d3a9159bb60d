//! License Manager desktop app: the window, the state, and the command table.
//! Domain logic lives in `license-core`; see ARCHITECTURE.md. A library so tests can
//! drive the command layer without a window (`tests/corpus.rs`).

pub mod bindings;
pub mod commands;
include!("command_names.rs");
mod dialogs;
pub mod drop;
pub mod error;
mod notify;
pub mod state;

use license_core::environment::config;
use state::AppState;
use std::io::IsTerminal;
use std::path::PathBuf;
use tauri::{Manager, WindowEvent};

/// The handler table and its names from one list, so `ipc_contract` can prove the
/// table matches `command_names.rs`, the capability and the UI.
macro_rules! app_commands {
    ($($module:ident::$name:ident),* $(,)?) => {
        /// The commands in the handler table, by name.
        pub const HANDLED: &[&str] = &[$(stringify!($name)),*];

        fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$module::$name),*]
        }
    };
}

app_commands! {
    environment::overview,
    environment::open_demo,
    environment::create_config,
    environment::serial_qr,
    environment::accept_clock,
    install::choose_license_file,
    install::paste_license,
    install::current_candidate,
    install::install_candidate,
    install::save_license_copy,
    install::save_install_report,
    backups::backup_now,
    backups::list_backups,
    backups::check_backup,
    backups::restore_backup,
    backups::export_backup,
    settings::get_settings,
    settings::save_settings,
    settings::set_portal_token,
    settings::clear_portal_token,
    portal::usage_preview,
    portal::generate_audit,
    portal::save_audit_copy,
    portal::upload_outbox,
    portal::upload_audit_file,
    portal::audit_state,
    portal::register_environment,
    portal::fetch_license,
    portal::send_license,
    portal::request_view,
    portal::cancel_portal_call,
    portal::save_license_request,
    portal::fulfil_request,
    role::app_role,
    role::set_role,
    workstation::get_workstation,
    workstation::save_workstation,
    workstation::set_workstation_token,
    workstation::infrastructure,
    workstation::register_slot,
    workstation::free_slot,
    workstation::open_transfer_file,
    workstation::process_transfer,
    transfer_here::add_to_transfer_file,
    transfer_here::open_transfer_here,
    transfer_here::record_receipts,
}

/// License Manager: keep this environment's platform license right.
#[derive(clap::Parser)]
#[command(name = "license-manager", version)]
struct Args {
    /// Open the environment configured in FILE.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Create and open the demo environment (in DIR, or the app's data folder).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    demo: Option<Option<PathBuf>>,
    /// Start as a connected workstation: no environment of its own, the portal for
    /// every environment of the subscription.
    #[arg(long)]
    workstation: bool,
}

/// Runs the app (the binary's `main`).
pub fn run() {
    // Before any thread starts: the token given in the environment moves into memory,
    // so WebKit's processes, which the window starts, never inherit it.
    license_core::secrets::take_from_environment();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICENSE_MANAGER_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: not in a pipe, a file or the journal.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // Unknown or malformed options are refused before a window opens.
    let args = <Args as clap::Parser>::parse();

    tauri::Builder::default()
        .manage(AppState::default())
        .setup(move |app| {
            let state = app.state::<AppState>();
            if args.workstation {
                *state.role.lock().expect("state lock") = state::Role::Workstation;
            }
            let demo_dir = match &args.demo {
                Some(Some(dir)) => dir.clone(),
                _ => app.path().app_data_dir()?.join("demo"),
            };
            *state.demo_dir.lock().expect("state lock") = Some(demo_dir.clone());
            let opened = if args.demo.is_some() {
                license_core::demo::create(&demo_dir)
                    .map_err(|e| e.to_string())
                    .and_then(|p| state.open(&p).map_err(|e| e.to_string()))
            } else {
                config::locate(args.config.as_deref())
                    .map_err(|e| e.to_string())
                    .and_then(|p| state.open(&p).map_err(|e| e.to_string()))
            };
            if let Err(e) = opened {
                tracing::warn!(error = %e, "no environment opened at start");
                state.set_error(e);
            }
            #[cfg(feature = "test-dialogs")]
            drop::watch_test_drops(app.handle());
            notify::start(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(drag) = event {
                drop::from_window_event(window.app_handle(), drag);
            }
        })
        .invoke_handler(handler())
        .run(tauri::generate_context!())
        .expect("error while running License Manager");
}

/// The IPC contract is kept by the compiler where it can be (generated types) and
/// by these tests where it cannot: one list of commands everywhere.
#[cfg(test)]
mod ipc_contract {
    use std::collections::BTreeSet;

    fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        names.into_iter().map(str::to_string).collect()
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn the_handler_table_is_the_command_list() {
        assert_eq!(set(super::HANDLED.iter().copied()), set(super::COMMANDS.iter().copied()));
        assert_eq!(super::HANDLED.len(), super::COMMANDS.len(), "a command is listed twice");
    }

    #[test]
    fn the_capability_grants_exactly_the_command_list() {
        let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
        let caps = conf["app"]["security"]["capabilities"].as_array().unwrap();
        assert_eq!(caps.len(), 1, "one capability, for the main window");
        let granted: Vec<&str> =
            caps[0]["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let ours: BTreeSet<String> =
            granted.iter().filter_map(|p| p.strip_prefix("allow-")).map(|p| p.replace('-', "_")).collect();
        assert_eq!(ours, set(super::COMMANDS.iter().copied()));
        let others: Vec<_> = granted.iter().filter(|p| !p.starts_with("allow-")).collect();
        assert_eq!(
            others,
            [&"core:event:allow-listen", &"core:event:allow-unlisten"],
            "no plugin permission besides events"
        );
    }

    #[test]
    fn the_ui_calls_exactly_the_command_list() {
        let api = read("ui/src/lib/api.ts");
        let called: BTreeSet<String> = api
            .split("invoke")
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.trim_start_matches(|c| c != '(').strip_prefix("(\"")?;
                Some(rest[..rest.find('"')?].to_string())
            })
            .collect();
        assert_eq!(called, set(super::COMMANDS.iter().copied()));
    }
}
