// Declaring the app's commands makes Tauri generate one permission per command
// (`allow-<command>`), so the webview can call only what the capability in
// tauri.conf.json grants.
const COMMANDS: &[&str] = &[
    "overview",
    "open_demo",
    "create_config",
    "serial_qr",
    "choose_license_file",
    "paste_license",
    "current_candidate",
    "install_candidate",
    "save_license_copy",
    "backup_now",
    "list_backups",
    "check_backup",
    "restore_backup",
    "export_backup",
    "get_settings",
    "save_settings",
    "set_portal_token",
    "clear_portal_token",
    "usage_preview",
    "generate_audit",
    "save_audit_copy",
    "upload_outbox",
    "upload_audit_file",
    "audit_state",
    "register_environment",
    "fetch_license",
    "send_license",
    "save_license_request",
    "fulfil_request",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri-build failed");
}
