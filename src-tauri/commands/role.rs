//! The two roles: "This environment" and "Connected workstation".

use crate::error::CommandResult;
use crate::state::{AppState, Role};
use serde::Serialize;
use tauri::State;

#[derive(Serialize, ts_rs::TS)]
pub struct RoleView {
    role: Role,
    /// An environment configuration is open (the environment role can be used).
    has_environment: bool,
}

fn view(state: &AppState) -> RoleView {
    RoleView { role: *state.role.lock().expect("state lock"), has_environment: state.has_environment() }
}

#[tauri::command]
pub async fn app_role(state: State<'_, AppState>) -> CommandResult<RoleView> {
    Ok(view(&state))
}

#[tauri::command]
pub async fn set_role(role: Role, state: State<'_, AppState>) -> CommandResult<RoleView> {
    *state.role.lock().expect("state lock") = role;
    Ok(view(&state))
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/role.rs"));
