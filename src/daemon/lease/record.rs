//! What the lease is and where it lives: the target (state bucket, key, tags) and the record
//! the holder writes (holder id, expiry, released).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{KEY, LeaseError, STATE_STACK};
use crate::resource::bucket;
use crate::resource::{TAG_APP, TAG_ID, TAG_STACK, TAG_STAGE, Tags};

/// Where the lease of one app and stage lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    pub key: String,
    pub region: String,
    pub tags: Tags,
}

impl Target {
    /// The lease of `app` and `stage` in `account`: `{stage}-{app}-stackwatch-{account}`.
    pub fn new(app: &str, stage: &str, account: &str, region: &str) -> Result<Target, LeaseError> {
        let base = format!("{stage}-{app}-stackwatch");
        let head = bucket::head_before_account(&base)
            .map_err(|why| LeaseError::BadBucketName(format!("{base}-{account}"), why))?;
        let bucket = format!("{head}-{account}");
        Ok(Target {
            bucket,
            key: KEY.to_string(),
            region: region.to_string(),
            tags: Tags::from([
                (TAG_APP.to_string(), app.to_string()),
                (TAG_STAGE.to_string(), stage.to_string()),
                (TAG_STACK.to_string(), STATE_STACK.to_string()),
                (TAG_ID.to_string(), format!("{STATE_STACK}.Lease")),
            ]),
        })
    }

    pub(super) fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// The lease object's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// `hostname/pid/random` of the daemon that wrote it.
    pub holder: String,
    /// Unix milliseconds after which anyone may take the lease.
    pub expires_at_ms: u64,
    /// The same, as RFC 3339, for people.
    pub expires_at: String,
    /// True once the holder gave the lease up (SIGTERM).
    #[serde(default)]
    pub released: bool,
}

impl Record {
    pub(super) fn new(holder: &str, ttl: Duration) -> Record {
        let expires = SystemTime::now() + ttl;
        Record {
            holder: holder.to_string(),
            expires_at_ms: unix_ms(expires),
            expires_at: humantime::format_rfc3339_millis(expires).to_string(),
            released: false,
        }
    }

    pub(super) fn released(holder: &str) -> Record {
        Record {
            released: true,
            ..Record::new(holder, Duration::ZERO)
        }
    }

    /// Free to take: released, or past its expiry on our clock.
    pub fn is_free(&self) -> bool {
        self.released || unix_ms(SystemTime::now()) >= self.expires_at_ms
    }
}

pub(super) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}
