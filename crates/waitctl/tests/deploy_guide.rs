//! docs/DEPLOY_GUIDE.md followed word by word gives a running service that builds the
//! demo job: scripts/deploy-guide-check does it in a scratch folder with the binary under
//! test, starting the units' ExecStart lines where the guide says `systemctl`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_deploy_guide_installs_a_service_that_builds_the_demo_job() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(root.join("scripts/deploy-guide-check"))
        .env("WAITCTL_BUILD", env!("CARGO_BIN_EXE_waitctl"))
        .current_dir(&root)
        .output()
        .expect("run scripts/deploy-guide-check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/deploy-guide-check failed ({}):\n{}\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("deploy-guide-check: OK"), "{stderr}");
}
