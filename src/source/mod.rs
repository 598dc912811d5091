//! What the files say and where: source locations and diagnostics (file, line, column, what
//! was expected), and the `${…}` templates inside config strings. The lowest layer: the config
//! loader, every kind's own fields and the engine all speak these types.

mod diagnostics;
pub mod template;

pub use diagnostics::{ConfigError, Diagnostic, Loc, at, whole_file, yaml_message};
