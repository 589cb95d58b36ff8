//! `overwrite` with and without `rebuild`, compared with `wimlib-imagex optimize`.

mod common;

use common::*;
use wait_wim::{UpdateCommand, Wim, WriteOptions};

fn size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).expect("stat").len()
}

#[test]
fn deleting_a_big_file_shrinks_the_wim_only_with_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_big_tree(&src, 4);
    let wim_path = dir.path().join("big.wim");
    imagex_capture(&src, &wim_path, "img");
    let original = size(&wim_path);

    let mut wim = Wim::open(&wim_path).expect("open");
    wim.update_image(
        1,
        &[UpdateCommand::Delete {
            path: "/big.bin".to_owned(),
        }],
    )
    .expect("delete");
    let append = WriteOptions {
        rebuild: false,
        ..WriteOptions::default()
    };
    wim.overwrite(&append).expect("overwrite in place");
    let appended = size(&wim_path);
    assert!(appended >= original, "{appended} < {original}");
    assert!(imagex_verify_ok(&wim_path));
    assert!(!imagex_dir(&wim_path, 1).iter().any(|p| p == "/big.bin"));

    // wimlib-imagex optimize on a copy is the reference for the rebuilt size.
    let copy = dir.path().join("copy.wim");
    std::fs::copy(&wim_path, &copy).expect("copy");
    imagex_args(["optimize".as_ref(), copy.as_os_str()]);
    let optimized = size(&copy);

    wim.overwrite(&WriteOptions::default()).expect("rebuild");
    let rebuilt = size(&wim_path);
    assert!(
        rebuilt + 4 * 1024 * 1024 <= appended,
        "{rebuilt} vs {appended}"
    );
    assert!(
        rebuilt.abs_diff(optimized) < 4096,
        "ours {rebuilt}, optimize {optimized}"
    );
    assert!(imagex_verify_ok(&wim_path));
}
