// License Manager desktop app. Everything lives in the library (src-tauri/lib.rs).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    license_manager::run();
}
