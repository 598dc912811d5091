//! `${…}` references inside config strings.
//!
//! The rule, also stated in the README: `${Stack.Resource.attribute}` and `${app.region}`
//! (`app.name`, `app.stage`, `app.account`) are references that stackwatch resolves. Anything
//! whose inside contains a `:` (`${cognito-identity.amazonaws.com:sub}`, `${aws:username}`) or is
//! one of IAM's special characters (`${*}`, `${?}`, `${$}`) is an IAM policy variable: it is
//! passed to AWS literally, never resolved and never an error.

use std::fmt;

/// An app-level value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppAttr {
    Name,
    Stage,
    Region,
    Account,
}

/// What a `${…}` points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    App(AppAttr),
    Attr {
        stack: String,
        resource: String,
        attr: String,
    },
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::App(a) => {
                let name = match a {
                    AppAttr::Name => "name",
                    AppAttr::Stage => "stage",
                    AppAttr::Region => "region",
                    AppAttr::Account => "account",
                };
                write!(f, "${{app.{name}}}")
            }
            Ref::Attr {
                stack,
                resource,
                attr,
            } => write!(f, "${{{stack}.{resource}.{attr}}}"),
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Ref(Ref),
}

/// A config string split into literal text and references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// Shown in plans where a value depends on a resource not created yet.
pub const UNKNOWN: &str = "(known after apply)";

/// The template's text with each reference as written (`${app.region}`).
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Lit(l) => f.write_str(l)?,
                Part::Ref(r) => write!(f, "{r}")?,
            }
        }
        Ok(())
    }
}

impl Template {
    /// A template with no references.
    pub fn literal(s: impl Into<String>) -> Self {
        Template {
            parts: vec![Part::Lit(s.into())],
        }
    }

    /// Splits `text` into parts. The error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            lit.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(format!(
                    "expected `}}` to close `${{` in `{text}`; references are written `${{Stack.Resource.attribute}}`"
                ));
            };
            let inner = &after[..end];
            if is_policy_variable(inner) {
                lit.push_str(&rest[start..start + 2 + end + 1]);
            } else {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Ref(parse_ref(inner)?));
            }
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// The references this template makes.
    pub fn refs(&self) -> impl Iterator<Item = &Ref> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Lit(_) => None,
        })
    }

    /// Substitutes every reference. A reference `lookup` cannot answer yet makes the result
    /// known only after apply; its text shows [`UNKNOWN`] in that place.
    pub fn render(&self, lookup: impl Fn(&Ref) -> Option<String>) -> Resolved {
        let mut text = String::new();
        let mut known = true;
        for part in &self.parts {
            match part {
                Part::Lit(s) => text.push_str(s),
                Part::Ref(r) => match lookup(r) {
                    Some(v) => text.push_str(&v),
                    None => {
                        known = false;
                        text.push_str(UNKNOWN);
                    }
                },
            }
        }
        Resolved { text, known }
    }
}

/// What reference resolution returns: a value, or one known only after apply (it depends on
/// a resource not created yet). The two are told apart by type, with [`Resolved::is_known`],
/// never by looking for the placeholder in the text; the text, with [`UNKNOWN`] in place of
/// what is not known, is what a plan shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    text: String,
    known: bool,
}

impl Resolved {
    /// A value known only after apply, shown as [`UNKNOWN`].
    pub fn after_apply() -> Resolved {
        Resolved {
            text: UNKNOWN.to_string(),
            known: false,
        }
    }

    /// True when every reference in it was known.
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// The value, when it is known.
    pub fn known(&self) -> Option<&str> {
        self.known.then_some(self.text.as_str())
    }

    /// The text a plan shows, the placeholder included.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text a plan shows, the placeholder included.
    pub fn into_text(self) -> String {
        self.text
    }
}

/// A known value.
impl From<String> for Resolved {
    fn from(text: String) -> Resolved {
        Resolved { text, known: true }
    }
}

/// A known value.
impl From<&str> for Resolved {
    fn from(text: &str) -> Resolved {
        Resolved::from(text.to_string())
    }
}

/// The text, so a resolved id goes straight into an SDK setter.
impl From<&Resolved> for String {
    fn from(r: &Resolved) -> String {
        r.text.clone()
    }
}

impl std::ops::Deref for Resolved {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// IAM policy variables contain a `:`, or are one of the special characters `*`, `?`, `$`.
pub fn is_policy_variable(inner: &str) -> bool {
    inner.contains(':') || matches!(inner, "*" | "?" | "$")
}

fn parse_ref(inner: &str) -> Result<Ref, String> {
    let segs: Vec<&str> = inner.split('.').collect();
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match segs.as_slice() {
        ["app", attr] => {
            let a = match *attr {
                "name" => AppAttr::Name,
                "stage" => AppAttr::Stage,
                "region" => AppAttr::Region,
                "account" => AppAttr::Account,
                other => {
                    return Err(format!(
                        "expected one of `${{app.name}}`, `${{app.stage}}`, `${{app.region}}`, `${{app.account}}`, found `${{app.{other}}}`"
                    ));
                }
            };
            Ok(Ref::App(a))
        }
        [stack, resource, attr] if ident(stack) && ident(resource) && ident(attr) => {
            Ok(Ref::Attr {
                stack: stack.to_string(),
                resource: resource.to_string(),
                attr: attr.to_string(),
            })
        }
        _ => Err(format!(
            "expected a reference `${{Stack.Resource.attribute}}` or `${{app.region}}`, found `${{{inner}}}` \
             (IAM policy variables such as `${{aws:username}}` contain a `:` and are kept literally)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_variables_stay_literal() {
        let t = Template::parse("arn:aws:s3:::b/private/${cognito-identity.amazonaws.com:sub}/*")
            .unwrap();
        assert_eq!(
            t.parts,
            vec![Part::Lit(
                "arn:aws:s3:::b/private/${cognito-identity.amazonaws.com:sub}/*".into()
            )]
        );
        for v in ["${aws:username}", "${*}", "${?}", "${$}", "${saml:sub}"] {
            let t = Template::parse(v).unwrap();
            assert_eq!(t.refs().count(), 0, "{v} must stay literal");
            assert_eq!(t.render(|_| None), Resolved::from(v));
        }
    }

    #[test]
    fn references_are_split_out() {
        let t = Template::parse("${StorageStack.Uploads.arn}/private/${aws:userid}/${app.region}")
            .unwrap();
        let refs: Vec<String> = t.refs().map(|r| r.to_string()).collect();
        assert_eq!(refs, ["${StorageStack.Uploads.arn}", "${app.region}"]);
        let r = t.render(|r| match r {
            Ref::App(AppAttr::Region) => Some("us-east-1".into()),
            _ => None,
        });
        assert!(!r.is_known());
        assert_eq!(r.known(), None);
        assert_eq!(
            r.as_str(),
            format!("{UNKNOWN}/private/${{aws:userid}}/us-east-1")
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(
            Template::parse("${Stack.Only}")
                .unwrap_err()
                .contains("expected a reference")
        );
        assert!(
            Template::parse("${app.zone}")
                .unwrap_err()
                .contains("app.region")
        );
        assert!(
            Template::parse("x ${A.b.c")
                .unwrap_err()
                .contains("expected `}`")
        );
    }
}
