//! Killed mid-apply: `stackwatch apply --yes` is killed with SIGKILL at a seeded random moment
//! of a fresh apply, then run once more, which must succeed. Every trial must end converged (a
//! clean plan) with exactly one of each resource and no leftover carrying our tags.
//!
//! Each trial uses its own stage (`--stage cN`) in one emulator, so trials never see each
//! other's resources. `STACKWATCH_CRASH_TRIALS` sets the number of trials (default 30, about
//! 40 s here), `STACKWATCH_CRASH_SEED` the seed.
//!
//! No window is tolerated: the bucket is tagged in its CreateBucket call, so there is no moment
//! at which a kill leaves an untagged bucket that would need `adopt:`.

mod common;
#[path = "common/fault_proxy.rs"]
mod fault_proxy;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, example_config, stackwatch};
use fault_proxy::Rng;
use stackwatch::aws::Aws;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Tags as a map.
fn tag_map<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every resource carrying `stackwatch:stage = stage`, by kind, as (name, id).
async fn tagged(aws: &Aws, stage: &str) -> BTreeMap<&'static str, Vec<(String, String)>> {
    let ours = |t: &BTreeMap<String, String>| {
        t.get("stackwatch:stage").map(String::as_str) == Some(stage)
            && t.get("stackwatch:app").map(String::as_str) == Some("notes")
    };
    let mut out: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
    let all = aws
        .idp
        .list_user_pools()
        .max_results(60)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    for p in all {
        let id = p.id().unwrap_or_default().to_string();
        let d = aws
            .idp
            .describe_user_pool()
            .user_pool_id(&id)
            .send()
            .await
            .unwrap();
        let pool = d.user_pool().unwrap();
        let tags = tag_map(
            pool.user_pool_tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if ours(&tags) {
            out.entry("user pool")
                .or_default()
                .push((p.name().unwrap_or_default().to_string(), id));
        }
    }
    let ids = aws
        .identity
        .list_identity_pools()
        .max_results(60)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    for p in &ids {
        let d = aws
            .identity
            .describe_identity_pool()
            .identity_pool_id(p.identity_pool_id().unwrap_or_default())
            .send()
            .await
            .unwrap();
        let tags = tag_map(
            d.identity_pool_tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if ours(&tags) {
            out.entry("identity pool").or_default().push((
                d.identity_pool_name().to_string(),
                d.identity_pool_id().to_string(),
            ));
        }
    }
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/stackwatch/")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    for r in &roles {
        let t = aws
            .iam
            .list_role_tags()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        let tags = tag_map(t.tags().iter().map(|t| (t.key(), t.value())));
        if ours(&tags) {
            out.entry("role")
                .or_default()
                .push((r.role_name().to_string(), r.role_name().to_string()));
        }
    }
    let apis = stackwatch::aws::all_pages("API", "all", |token| async move {
        let out = aws
            .apigw
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        Ok((out.items.unwrap_or_default(), out.next_token))
    })
    .await
    .unwrap();
    for a in &apis {
        let tags = tag_map(
            a.tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if ours(&tags) {
            out.entry("API").or_default().push((
                a.name().unwrap_or_default().to_string(),
                a.api_id().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

fn bucket_name(stage: &str) -> String {
    format!("{stage}-notes-storagestack-uploads-123456789012")
}

/// The one `apply --yes` after the kill: it must succeed, with nothing to adopt or delete by hand.
fn rerun(emu: &Emulator, dir: &Path, stage: &str, trial: u64, delay: Duration) {
    let (code, out, err) = stackwatch(
        emu,
        dir,
        &["--config", ".", "--stage", stage, "apply", "--yes"],
    );
    assert_eq!(
        code, 0,
        "trial {trial} ({delay:?}): the apply after the kill failed:\n{out}\n{err}"
    );
    assert!(
        !out.contains("adopt:") && !err.contains("adopt:"),
        "trial {trial}: {out}\n{err}"
    );
}

#[tokio::test]
async fn killed_mid_apply_then_restarted_converges_without_duplicates_or_leftovers() {
    let trials = env_u64("STACKWATCH_CRASH_TRIALS", 30);
    let mut rng = Rng::new(env_u64("STACKWATCH_CRASH_SEED", 30));
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;

    // How long one fresh apply takes on a warm emulator, to spread the kills over it.
    let mut full = u64::MAX;
    for stage in ["warmup", "calibrate"] {
        let t = Instant::now();
        let (code, out, err) = stackwatch(
            &emu,
            dir.path(),
            &["--config", ".", "--stage", stage, "apply", "--yes"],
        );
        assert_eq!(code, 0, "{out}\n{err}");
        full = full.min(t.elapsed().as_millis() as u64);
    }

    let mut killed_before_done = 0;
    for n in 0..trials {
        let stage = format!("c{n}");
        let delay = Duration::from_millis(rng.below((full * 9 / 10).max(1)));
        let mut child = Command::new(env!("CARGO_BIN_EXE_stackwatch"))
            .args(["--config", ".", "--stage", &stage, "apply", "--yes"])
            .current_dir(dir.path())
            .envs(emu.env())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_before_done += 1;
        }
        // SIGKILL: no chance to clean up.
        child.kill().unwrap();
        let _ = child.wait();

        rerun(&emu, dir.path(), &stage, n, delay);
        let (code, out, err) = stackwatch(
            &emu,
            dir.path(),
            &[
                "--config",
                ".",
                "--stage",
                &stage,
                "plan",
                "--detailed-exitcode",
            ],
        );
        assert_eq!(
            code, 0,
            "trial {n} ({delay:?}): plan not clean\n{out}\n{err}"
        );

        // Exactly one of each, and nothing else carrying this stage's tags.
        let found = tagged(&aws, &stage).await;
        let expect = [
            ("user pool", format!("{stage}-notes-Auth")),
            ("identity pool", format!("{stage}_notes_Auth")),
            ("role", format!("{stage}-notes-AuthStack-Auth-AuthRole")),
            ("API", format!("{stage}-notes-Api")),
        ];
        for (kind, name) in &expect {
            let items = found.get(kind).cloned().unwrap_or_default();
            assert_eq!(
                items.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                vec![name.as_str()],
                "trial {n} ({delay:?}): {kind}s carrying our tags: {found:?}"
            );
        }
        assert_eq!(
            found.len(),
            expect.len(),
            "trial {n} ({delay:?}): unexpected kinds carrying our tags: {found:?}"
        );
        let clients = aws
            .idp
            .list_user_pool_clients()
            .user_pool_id(&found["user pool"][0].1)
            .send()
            .await
            .unwrap();
        assert_eq!(clients.user_pool_clients().len(), 1, "trial {n}");
        let tags = aws
            .s3
            .get_bucket_tagging()
            .bucket(bucket_name(&stage))
            .send()
            .await
            .unwrap();
        assert!(
            tags.tag_set()
                .iter()
                .any(|t| t.key() == "stackwatch:stage" && t.value() == stage),
            "trial {n}: bucket not ours"
        );
    }
    eprintln!(
        "{trials} trials (a full apply takes {full} ms): {killed_before_done} killed mid-apply, \
         every one converged on the first rerun"
    );
    assert!(
        killed_before_done * 2 >= trials,
        "most kills should land before the apply finished"
    );
}
