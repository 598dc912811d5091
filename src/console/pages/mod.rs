//! The console's pages, one module each: **Stacks** (`stacks`), **Plan** (`plan`), **Cognito**
//! (`cognito`) and **Access** (`access`), in the frame `layout` gives them; `activity` is the
//! Recent reconciles section two of them share, `aws_links` the links into the AWS console.
//!
//! Every page is rendered with maud's `html!`, which escapes every interpolated value (text
//! and attribute alike): nothing here escapes by hand, and raw HTML (`PreEscaped`) appears
//! only as maud's fixed `DOCTYPE` in `layout`. The stylesheet and script are not inlined:
//! they are served from `/assets/` (the Content-Security-Policy allows only those).
//!
//! Each page has a pure `render` function from the data it shows, which its handlers call and
//! the escaping tests (`escaping`) call with markup in every value.

pub mod access;
mod activity;
mod aws_links;
pub mod cognito;
mod layout;
pub mod plan;
pub mod stacks;

#[cfg(test)]
mod escaping;
