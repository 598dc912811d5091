//! Links from a resource on the Stacks page into the AWS web console of its region, built from
//! its kind and physical id (percent-encoded); each kind says where its page is
//! (`ResourceKind::CONSOLE_URL`).

use crate::console::ResourceView;
use crate::resource::{ConsoleLink, KindId};

/// What a physical id may keep unencoded in a console URL.
const URL_PART: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// The resource in the AWS web console of its region, from its kind and physical id.
pub fn aws_console_url(r: &ResourceView, all: &[ResourceView], region: &str) -> Option<String> {
    let p = r.physical.as_str();
    if p.is_empty() {
        return None;
    }
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URL_PART).to_string();
    // The sibling node of the same declared resource (`Stack.Resource.<node>`): the user pool
    // for what lives inside a pool. (A test user's id holds dots of its own.)
    let sibling = |node: &str| {
        let mut parts = r.id.splitn(3, '.');
        let prefix = format!("{}.{}", parts.next()?, parts.next()?);
        all.iter()
            .find(|x| x.id == format!("{prefix}.{node}"))
            .map(|x| enc(&x.physical))
    };
    let id = enc(p);
    let link = ConsoleLink {
        region,
        id: &id,
        sibling: &sibling,
    };
    KindId::from_kind(&r.kind)?.console_url(&link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{bucket, test_user, user_pool, user_pool_client};

    fn res(id: &str, kind: &str, physical: &str) -> ResourceView {
        ResourceView {
            id: id.into(),
            stack: id.split('.').next().unwrap().into(),
            kind: kind.into(),
            physical: physical.into(),
            action: "nochange".into(),
            outcome: None,
            error: None,
        }
    }

    #[test]
    fn console_links_are_region_aware_and_find_the_pool() {
        let all = vec![
            res("AuthStack.Auth.UserPool", user_pool::KIND, "eu-west-1_abc"),
            res(
                "AuthStack.Auth.UserPoolClient",
                user_pool_client::KIND,
                "client1",
            ),
            res(
                "AuthStack.Auth.TestUser(a@example.com)",
                test_user::KIND,
                "a@example.com",
            ),
            res("StorageStack.Uploads", bucket::KIND, "dev-notes-uploads"),
        ];
        assert_eq!(
            aws_console_url(&all[0], &all, "eu-west-1").unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cognito/v2/idp/user-pools/eu-west-1_abc/overview?region=eu-west-1"
        );
        assert!(
            aws_console_url(&all[1], &all, "eu-west-1")
                .unwrap()
                .contains("/user-pools/eu-west-1_abc/applications/app-clients/client1/")
        );
        assert!(
            aws_console_url(&all[2], &all, "eu-west-1")
                .unwrap()
                .contains("/user-pools/eu-west-1_abc/user-management/users")
        );
        assert_eq!(
            aws_console_url(&all[3], &all, "eu-west-1").unwrap(),
            "https://s3.console.aws.amazon.com/s3/buckets/dev-notes-uploads?region=eu-west-1"
        );
    }

    #[test]
    fn a_physical_id_is_percent_encoded() {
        let r = res(
            "S.B",
            crate::resource::bucket::KIND,
            r#""><img src=x onerror=alert(1)>"#,
        );
        let url = aws_console_url(&r, std::slice::from_ref(&r), "eu-west-1").unwrap();
        assert_eq!(
            url,
            "https://s3.console.aws.amazon.com/s3/buckets/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E?region=eu-west-1"
        );
    }
}
