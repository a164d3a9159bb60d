// Declaring the app's commands makes Tauri generate one permission per command
// (`allow-<command>`), so the webview can call only what the capability in
// tauri.conf.json grants. The list is src-tauri/command_names.rs, shared with the
// app; `ipc_contract` tests prove the handler table, the capability and ui/ agree.
include!("command_names.rs");

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri-build failed");
}
