//! The lease's store: the record in S3, read and written with conditional requests
//! (`If-None-Match: *` to create, `If-Match: <etag>` to renew, take over and release), and the
//! state bucket, created tagged in its CreateBucket call.

use aws_sdk_s3::primitives::ByteStream;

use super::{KIND, LeaseError, RELEASE_TIMEOUT, Record, Target};
use crate::aws::{Aws, AwsError};
use crate::resource::bucket;
use crate::resource::{Owner, owner_from_tags};

/// A conditional PutObject.
pub(super) enum Cond<'a> {
    /// `If-None-Match: *`: only if there is no object yet.
    Absent,
    /// `If-Match: <etag>`: only if the object is still the one we saw.
    Etag(&'a str),
}

/// Someone else wrote first: 412 PreconditionFailed, or 409 while a concurrent write is in flight.
pub(super) fn lost_race(e: &AwsError) -> bool {
    e.is("PreconditionFailed") || e.is("ConditionalRequestConflict")
}

/// Overwrites our lease as released (If-Match our ETag, so never someone else's).
pub(super) async fn release(aws: &Aws, target: &Target, id: &str, etag: &str) {
    let record = Record::released(id);
    let put = put(aws, target, &record, Cond::Etag(etag));
    match tokio::time::timeout(RELEASE_TIMEOUT, put).await {
        Ok(Ok(_)) => tracing::info!(lease = %target.url(), "lease: released"),
        Ok(Err(e)) => tracing::warn!(error = %e, "lease: releasing"),
        Err(_) => {
            tracing::warn!(timeout = ?RELEASE_TIMEOUT, "lease: releasing timed out; it expires on its own")
        }
    }
}
/// The lease object and its ETag; `None` when there is none. A body that does not parse is
/// `Some((etag, None))`.
pub(super) async fn get(
    aws: &Aws,
    target: &Target,
) -> Result<Option<(String, Option<Record>)>, AwsError> {
    let out = match aws
        .s3
        .get_object()
        .bucket(&target.bucket)
        .key(&target.key)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::new("reading", KIND, target.url(), e);
            return if e.is("NoSuchKey") { Ok(None) } else { Err(e) };
        }
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| AwsError::refused("reading", KIND, target.url(), e.to_string()))?;
    Ok(Some((
        etag,
        serde_json::from_slice(&body.into_bytes()).ok(),
    )))
}

/// A conditional write of the lease; returns the new ETag.
pub(super) async fn put(
    aws: &Aws,
    target: &Target,
    record: &Record,
    cond: Cond<'_>,
) -> Result<String, AwsError> {
    let body = serde_json::to_vec_pretty(record).unwrap_or_default();
    let req = aws
        .s3
        .put_object()
        .bucket(&target.bucket)
        .key(&target.key)
        .content_type("application/json")
        .body(ByteStream::from(body));
    let req = match cond {
        Cond::Absent => req.if_none_match("*"),
        Cond::Etag(etag) => req.if_match(etag),
    };
    let out = req
        .send()
        .await
        .map_err(|e| AwsError::new("writing", KIND, target.url(), e))?;
    Ok(out.e_tag().unwrap_or_default().to_string())
}

/// Creates the state bucket with its tags in the create call, or checks that the existing one
/// is ours.
pub(super) async fn ensure_bucket(aws: &Aws, target: &Target) -> Result<(), LeaseError> {
    let name = target.bucket.as_str();
    let found = match bucket::read_tags(aws, name).await? {
        Some(found) => found,
        None => match bucket::create_tagged(aws, name, &target.tags).await? {
            bucket::Created::Made => {
                tracing::info!(bucket = name, "lease: created the state bucket");
                return Ok(());
            }
            // Another daemon created it a moment ago: check its tags like any existing one.
            bucket::Created::Existing(found) => found,
        },
    };
    if owner_from_tags(&found, &target.tags) == Owner::Ours {
        Ok(())
    } else {
        Err(LeaseError::Foreign {
            bucket: name.to_string(),
            found,
            expected: target.tags.clone(),
        })
    }
}
