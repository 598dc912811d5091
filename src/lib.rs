//! stackwatch keeps a serverless app's auth stack converged on AWS.
//!
//! The data path, top to bottom, with no way back up:
//!
//! ```text
//! files ─► config (load + validate) ─► desired (graph) ─► engine::read (resource::find)
//!       ─► plan (diff) ─► render ─► apply ─► outputs
//! ```
//!
//! `cli` and `main.rs` decide what to run; everything else is the same engine for every command.

pub mod aws;
pub mod config;
pub mod policy;
pub mod resource;
