//! The baseline for `bench/startup`: one window, one page, one command that says the
//! page is interactive (License Manager logs the same moment as "overview served").

#[tauri::command]
fn ready() {
    eprintln!("ui ready");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("error while running hello-tauri");
}
