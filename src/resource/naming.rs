//! Physical names: the rules AWS holds each kind's name to, and the one way stackwatch fits a
//! derived name to them.
//!
//! Each kind declares its [`NameRule`] beside its spec (from the service's API model, plus S3's
//! bucket naming rules that the model does not carry). `desired` derives every name through
//! [`NameRule::fit`] while validating, so a config that validates never fails on a name.
//!
//! A derived name that is too long is shortened as the AWS CDK does: the first characters are
//! kept and a stable hash of the whole name is appended (`dev-notes-…-3f9a2c1b`), so the name
//! stays recognisable, deterministic, and unique per logical resource. Names within the limit
//! are left exactly as they are, so shortening never renames an existing resource.

use sha2::{Digest, Sha256};

/// How many hex digits of the hash a shortened name ends with.
const HASH_LEN: usize = 8;

/// The rules one kind's physical names must keep.
#[derive(Debug, Clone, Copy)]
pub struct NameRule {
    /// As people say it, with its article: `an S3 bucket name`.
    pub what: &'static str,
    pub min: usize,
    pub max: usize,
    /// The characters a name may hold.
    pub chars: Chars,
    /// Names may not start with these.
    pub reserved_prefixes: &'static [&'static str],
    /// Names may not end with these.
    pub reserved_suffixes: &'static [&'static str],
    /// Whether the first and the last character must be a letter or digit.
    pub alnum_ends: bool,
}

/// The characters a name may hold: the test, and the same said in words for the error.
#[derive(Debug, Clone, Copy)]
pub struct Chars {
    pub allowed: fn(char) -> bool,
    pub words: &'static str,
}

impl NameRule {
    /// A rule of length and characters alone: nothing reserved, any characters at the ends.
    pub const fn new(what: &'static str, min: usize, max: usize, chars: Chars) -> NameRule {
        NameRule {
            what,
            min,
            max,
            chars,
            reserved_prefixes: &[],
            reserved_suffixes: &[],
            alnum_ends: false,
        }
    }

    /// Checks a finished name against the rule; the error says what was expected.
    pub fn check(&self, name: &str) -> Result<(), String> {
        let what = self.what;
        let len = name.chars().count();
        if len < self.min || len > self.max {
            return Err(format!(
                "expected {what} of {}-{} characters; `{name}` has {len}",
                self.min, self.max
            ));
        }
        if let Some(c) = name.chars().find(|c| !(self.chars.allowed)(*c)) {
            return Err(format!(
                "expected {what} of {}; `{name}` contains `{c}`",
                self.chars.words
            ));
        }
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if self.alnum_ends && !(alnum(name.chars().next()) && alnum(name.chars().last())) {
            return Err(format!(
                "expected {what} that begins and ends with a letter or digit; found `{name}`"
            ));
        }
        if let Some(p) = self.reserved_prefixes.iter().find(|p| name.starts_with(*p)) {
            return Err(format!(
                "expected {what} that does not start with `{p}` (reserved by AWS); found `{name}`"
            ));
        }
        if let Some(s) = self.reserved_suffixes.iter().find(|s| name.ends_with(*s)) {
            return Err(format!(
                "expected {what} that does not end with `{s}` (reserved by AWS); found `{name}`"
            ));
        }
        Ok(())
    }

    /// Fits a derived name to the rule: unchanged when it fits, else shortened to the first
    /// characters plus a stable hash of the whole name. `reserve` characters are left free for
    /// a suffix appended later (a bucket's `-{account}`). The result still needs [`check`]:
    /// shortening fixes only the length.
    ///
    /// [`check`]: NameRule::check
    pub fn fit(&self, derived: &str, reserve: usize) -> String {
        let room = self.max.saturating_sub(reserve);
        if derived.chars().count() <= room {
            return derived.to_string();
        }
        let keep = room.saturating_sub(HASH_LEN + 1);
        let head: String = derived.chars().take(keep).collect();
        let head = head.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        format!("{head}-{}", hash(derived))
    }

    /// The part of a prefix that every name derived from it keeps after [`NameRule::fit`]:
    /// what a listing can filter on to find this app's names, shortened or not.
    pub fn listing_prefix(&self, prefix: &str) -> String {
        let keep = self.max.saturating_sub(HASH_LEN + 1);
        if prefix.chars().count() <= keep {
            return prefix.to_string();
        }
        let head: String = prefix.chars().take(keep).collect();
        head.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string()
    }
}

fn hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `[\w\s+=,.@-]`: Cognito's pool, client and identity pool names. AWS's patterns are Java
/// regular expressions, where `\w` and `\s` are ASCII-only.
pub const COGNITO_CHARS: Chars = Chars {
    allowed: |c| {
        c.is_ascii_alphanumeric()
            || c == '_'
            || " \t\n\x0B\x0C\r".contains(c)
            || "+=,.@-".contains(c)
    },
    words: "letters, digits, spaces and `_+=,.@-`",
};

/// `[\w+=,.@-]`: IAM role names.
pub const IAM_CHARS: Chars = Chars {
    allowed: |c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c),
    words: "letters, digits and `_+=,.@-`",
};

/// Lowercase letters, digits, `.` and `-`: S3 bucket names.
pub fn bucket_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
}

/// Any character: API Gateway's API names carry only a length limit.
pub const ANY_CHARS: Chars = Chars {
    allowed: |_| true,
    words: "any characters",
};

/// S3's rules for a general purpose bucket: 3-63 characters of lowercase letters, digits, `.`
/// and `-`, a letter or digit at both ends, no `..`, not an IP address, and the prefixes and
/// suffixes AWS reserves. ("Bucket naming rules", Amazon S3 User Guide.)
pub const BUCKET: NameRule = NameRule {
    what: "an S3 bucket name",
    min: 3,
    max: 63,
    chars: Chars {
        allowed: bucket_name_char,
        words: "lowercase letters, digits, `.` and `-`",
    },
    reserved_prefixes: &["xn--", "sthree-", "amzn-s3-demo-"],
    reserved_suffixes: &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"],
    alnum_ends: true,
};

/// The bucket rules that are not about single characters or length.
pub fn check_bucket(name: &str) -> Result<(), String> {
    BUCKET.check(name)?;
    if name.contains("..") {
        return Err(format!(
            "expected an S3 bucket name without two adjacent periods; found `{name}`"
        ));
    }
    // "Formatted as an IP address": four dot-separated groups of digits, valid octets or not.
    let groups: Vec<&str> = name.split('.').collect();
    if groups.len() == 4
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "expected an S3 bucket name that is not an IP address; found `{name}`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: NameRule = NameRule::new("an IAM role name", 1, 64, IAM_CHARS);

    #[test]
    fn a_name_that_fits_is_unchanged() {
        let name = "dev-notes-AuthStack-Auth-AuthRole";
        assert_eq!(ROLE.fit(name, 0), name);
    }

    #[test]
    fn a_long_name_is_shortened_deterministically_with_a_hash() {
        let long = format!("dev-notes-{}-Auth-AuthRole", "S".repeat(80));
        let a = ROLE.fit(&long, 0);
        assert_eq!(a.len(), 64, "{a}");
        assert_eq!(a, ROLE.fit(&long, 0));
        assert!(a.starts_with("dev-notes-SSS"), "{a}");
        ROLE.check(&a).unwrap();
        // Two long names that share the kept head still differ.
        let other = format!("dev-notes-{}-Auth-UnauthRole", "S".repeat(80));
        assert_ne!(a, ROLE.fit(&other, 0));
        // What a listing filters on is a prefix of every shortened name.
        assert!(a.starts_with(&ROLE.listing_prefix(&format!("dev-notes-{}-", "S".repeat(80)))));
    }

    #[test]
    fn room_is_reserved_for_a_suffix() {
        let base = "dev-notes-storagestack-uploadsbucketforalltheusersfiles";
        let fitted = BUCKET.fit(base, 13);
        let full = format!("{fitted}-123456789012");
        assert!(full.len() <= 63, "{full}");
        check_bucket(&full).unwrap();
    }

    #[test]
    fn bucket_rules() {
        for bad in [
            "ab",
            "Uploads",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "999.1.1.1",
            "xn--abc",
            "sthree-abc",
            "amzn-s3-demo-x",
            "abc-s3alias",
            "abc--ol-s3",
            "abc.mrap",
            "abc--x-s3",
            "abc--table-s3",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(check_bucket(bad).is_err(), "{bad} should be refused");
        }
        for good in [
            "abc",
            "dev-notes-storagestack-uploads-123456789012",
            "a.b-c",
            &"a".repeat(63),
        ] {
            check_bucket(good).unwrap();
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = ROLE.check(&"r".repeat(65)).unwrap_err();
        assert!(
            e.contains("expected an IAM role name of 1-64 characters"),
            "{e}"
        );
        let e = ROLE.check("a b").unwrap_err();
        assert!(e.contains("contains ` `"), "{e}");
    }
}
