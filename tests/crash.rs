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

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::census::{tagged, user_pool_clients};
use common::{Emulator, command, example_config, stackwatch};
use fault_proxy::Rng;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn bucket_name(stage: &str) -> String {
    format!("{stage}-notes-storagestack-uploads-123456789012")
}

/// The one `apply --yes` after the kill: it must succeed, with nothing to adopt or delete by hand.
fn rerun(emu: &Emulator, dir: &Path, stage: &str, trial: u64, delay: Duration) {
    let (code, out, err) = stackwatch(emu, dir, &["--stage", stage, "apply", "--yes"]);
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
        let (code, out, err) = stackwatch(&emu, dir.path(), &["--stage", stage, "apply", "--yes"]);
        assert_eq!(code, 0, "{out}\n{err}");
        full = full.min(t.elapsed().as_millis() as u64);
    }

    let mut killed_before_done = 0;
    for n in 0..trials {
        let stage = format!("c{n}");
        let delay = Duration::from_millis(rng.below((full * 9 / 10).max(1)));
        let mut child = command(
            &emu.env(),
            dir.path(),
            &["--stage", &stage, "apply", "--yes"],
        )
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
            &["--stage", &stage, "plan", "--detailed-exitcode"],
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
        let clients = user_pool_clients(&aws, &found["user pool"][0].1).await;
        assert_eq!(clients.len(), 1, "trial {n}");
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
