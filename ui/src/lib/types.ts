// The types that cross IPC are generated from the Rust types (bindings.ts, by
// src-tauri/bindings.rs); this file only re-exports them, plus the error under the
// name the UI uses. Nothing here is written by hand.
export type * from "./bindings";
export type { ErrorView as CommandError } from "./bindings";
