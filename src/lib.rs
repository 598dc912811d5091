//! stackwatch keeps a serverless app's auth stack converged on AWS.
//!
//! The data path, top to bottom, with no way back up:
//!
//! ```text
//! files ─► config (load + validate) ─► desired (graph) ─► engine::read (resource::find)
//!       ─► plan (diff) ─► render ─► engine::apply ─► outputs
//! ```
//!
//! `session` strings these together for one run; `cli` (used only by `main.rs`) decides what
//! to run; `term` draws what they print on a terminal. Everything else is the same engine for
//! every command; `daemon` (`stackwatch watch`) only decides when to run it, and serves the web
//! console (`console`, which knows nothing of the daemon but what its `Backend` gives). `verify`
//! (`stackwatch verify`) reads the deployed roles back and
//! evaluates them with its own IAM policy evaluator.

pub mod aws;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod console;
pub mod daemon;
pub mod desired;
pub mod engine;
pub mod error;
pub mod init;
pub mod operator;
pub mod origin;
pub mod outputs;
pub mod plan;
pub mod policy;
pub mod render;
pub mod resource;
pub mod schema;
pub mod session;
pub mod source;
pub mod term;
pub mod verify;

pub use error::Error;

/// `Debug` and `Display` that print `<redacted>`, for a type that holds a secret.
#[macro_export]
macro_rules! redacted {
    ($ty:ty) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("<redacted>")
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("<redacted>")
            }
        }
    };
}
