//! Files dropped on the window. While something is dragged over it, the webview is
//! told so (it shows a drop zone on every page); a dropped file becomes the install
//! candidate in Rust, and the webview gets the checks, never the path.
//!
//! With the `test-dialogs` feature, E2E tests drive the same handler from a file
//! (`LICENSE_MANAGER_TEST_DROP`): WebDriver cannot drag a file from the desktop.

use crate::commands;
use serde::Serialize;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter};

/// The event that says whether a file is being dragged over the window.
pub const DRAG_STATE: &str = "drag-state";

#[derive(Serialize, Clone, ts_rs::TS)]
pub struct DragState {
    pub dragging: bool,
}

pub enum Drag {
    Enter,
    Leave,
    Drop(Vec<PathBuf>),
}

pub fn handle(app: &AppHandle, drag: Drag) {
    let dragging = matches!(drag, Drag::Enter);
    let _ = app.emit(DRAG_STATE, DragState { dragging });
    let Drag::Drop(paths) = drag else { return };
    let Some(path) = paths.into_iter().next() else { return };
    // Read and checked off the main thread, like every command's work.
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let checked = commands::with_state(&app, move |state| commands::install::from_path(state, &path)).await;
        let _ = app.emit(commands::install::CANDIDATE_DROPPED, commands::install::CandidateDropped::from(checked));
    });
}

pub fn from_window_event(app: &AppHandle, event: &tauri::DragDropEvent) {
    match event {
        tauri::DragDropEvent::Enter { .. } => handle(app, Drag::Enter),
        tauri::DragDropEvent::Leave => handle(app, Drag::Leave),
        tauri::DragDropEvent::Drop { paths, .. } => handle(app, Drag::Drop(paths.clone())),
        _ => {}
    }
}

/// E2E only: each line written to the file is one drag event, `enter`, `leave` or
/// `drop PATH`; the file is emptied once read.
#[cfg(feature = "test-dialogs")]
pub fn watch_test_drops(app: &AppHandle) {
    let Some(file) = std::env::var_os("LICENSE_MANAGER_TEST_DROP").map(PathBuf::from) else { return };
    let app = app.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        if text.is_empty() {
            continue;
        }
        let _ = std::fs::write(&file, "");
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("drop", path)) => handle(&app, Drag::Drop(vec![PathBuf::from(path)])),
                _ if line == "enter" => handle(&app, Drag::Enter),
                _ if line == "leave" => handle(&app, Drag::Leave),
                _ => tracing::warn!(line, "unknown test drop line"),
            }
        }
    });
}
