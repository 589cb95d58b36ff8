//! Downloads from the outputs API on the real app: a real build's WIMs, ISOs, checksum
//! files and manifests one by one with ranges and validators, 404s for what a folder
//! lacks, and the streamed zip bundle (checked with unzip, Python's zipfile, md5sum and
//! sha256sum), including a zip64 bundle of a sparse image over 4 GiB streamed while
//! peak memory stays flat.
#![allow(clippy::unwrap_used)]
mod common;
mod outputs_api_support;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};

use common::error_parts;
use outputs_api_support::{
    MEMORY, built, download_to, empty_repo, header, manifest_json, python_zip_members, run, start,
    write_output,
};

// ---------------------------------------------------------------------------------------
// Single files

#[tokio::test]
async fn wim_download_has_validators_and_answers_ranges_with_the_files_bytes() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let manifest = built.manifest();
    let image = manifest["outputs"][0]["image_file"].as_str().unwrap();
    let path = built.dir().join(image);
    let data = std::fs::read(&path).unwrap();
    let len = data.len() as u64;
    let sha = run("sha256sum", &[path.to_str().unwrap()], Path::new("."));
    let etag = format!("\"sha256-{}\"", sha.split_whitespace().next().unwrap());
    let url = built.api("/download/wim");

    let r = app.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_LENGTH), len.to_string());
    assert_eq!(header(&r, ETAG), etag);
    assert_eq!(header(&r, ACCEPT_RANGES), "bytes");
    assert!(
        header(&r, CONTENT_DISPOSITION).starts_with(&format!("attachment; filename=\"{image}\"")),
        "{}",
        header(&r, CONTENT_DISPOSITION)
    );
    let last_modified = header(&r, LAST_MODIFIED).to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    assert_eq!(r.bytes().await.unwrap(), data);

    let head = app.client.head(app.url(&url)).bearer_auth(&app.viewer);
    let r = head.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_LENGTH), len.to_string());
    assert!(r.bytes().await.unwrap().is_empty());

    let mid = len / 2;
    for (range, first, last) in [
        ("bytes=0-0".to_string(), 0, 0),
        ("bytes=0-1023".to_string(), 0, 1023),
        (format!("bytes={mid}-{}", mid + 4095), mid, mid + 4095),
        (format!("bytes={}-", len - 100), len - 100, len - 1),
        (
            format!("bytes={}-{}", len - 1, len + 1000),
            len - 1,
            len - 1,
        ),
        ("bytes=-1".to_string(), len - 1, len - 1),
        ("bytes=-777".to_string(), len - 777, len - 1),
        (format!("bytes=-{}", len + 5), 0, len - 1),
    ] {
        let r = app.get(&url).header(RANGE, &range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&r, CONTENT_RANGE),
            format!("bytes {first}-{last}/{len}")
        );
        assert_eq!(header(&r, CONTENT_LENGTH), (last - first + 1).to_string());
        assert_eq!(header(&r, ETAG), etag);
        let body = r.bytes().await.unwrap();
        assert_eq!(body, data[first as usize..=last as usize], "{range}");
    }

    for range in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 10, len + 20),
        "bytes=-0".into(),
    ] {
        let r = app.get(&url).header(RANGE, &range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(header(&r, CONTENT_RANGE), format!("bytes */{len}"));
        let (code, field) = error_parts(&r.json().await.unwrap());
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("range_not_satisfiable", Some("Range"))
        );
    }

    // A stale If-Range (other tag, other date, weak tag) gets the whole current file.
    let weak = format!("W/{etag}");
    for stale in [
        "\"sha256-0000\"",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        weak.as_str(),
    ] {
        let r = app
            .get(&url)
            .header(RANGE, "bytes=0-9")
            .header(IF_RANGE, stale)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "If-Range {stale}");
        assert!(r.headers().get(CONTENT_RANGE).is_none());
        assert_eq!(r.bytes().await.unwrap(), data);
    }
    for current in [etag.as_str(), last_modified.as_str()] {
        let r = app
            .get(&url)
            .header(RANGE, "bytes=0-9")
            .header(IF_RANGE, current)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::PARTIAL_CONTENT,
            "If-Range {current}"
        );
        assert_eq!(r.bytes().await.unwrap(), data[..10]);
    }

    let r = app
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&r, ETAG), etag);
    let r = app
        .get(&url)
        .header(IF_NONE_MATCH, "\"sha256-other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn variants_isos_checksums_and_manifests_download_as_their_own_files() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let manifest = built.manifest();
    let file = |name: &str| std::fs::read(built.dir().join(name)).unwrap();
    let nokey = &manifest["outputs"][1];
    assert_eq!(nokey["variant"], "nokey");

    let cases = [
        (
            "/download/wim?variant=key",
            manifest["outputs"][0]["image_file"].as_str().unwrap(),
        ),
        (
            "/download/wim?variant=nokey",
            nokey["image_file"].as_str().unwrap(),
        ),
        (
            "/download/iso",
            manifest["outputs"][0]["iso"]["file"].as_str().unwrap(),
        ),
        (
            "/download/iso?variant=nokey",
            nokey["iso"]["file"].as_str().unwrap(),
        ),
        ("/download/checksum", "checksum.sha256"),
        ("/download/checksum?algo=sha256", "checksum.sha256"),
        ("/download/checksum?algo=md5", "checksum.md5"),
        ("/download/manifest", "manifest.json"),
        ("/download/manifest?format=txt", "manifest.txt"),
        ("/download/manifest?format=json", "manifest.json"),
    ];
    for (rest, name) in cases {
        let r = app.get(&built.api(rest)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{rest}");
        assert!(
            header(&r, CONTENT_DISPOSITION).contains(&format!("filename=\"{name}\"")),
            "{rest}"
        );
        assert_eq!(r.bytes().await.unwrap(), file(name), "{rest}");
    }
    // Files not listed in checksum.sha256 are tagged by size and time, still strongly.
    let r = app
        .get(&built.api("/download/checksum"))
        .send()
        .await
        .unwrap();
    let tag = header(&r, ETAG);
    assert!(tag.starts_with('"') && !tag.contains("sha256"), "{tag}");

    for (rest, status, code, field) in [
        (
            "/download/wim?variant=bogus",
            404,
            "not_found",
            Some("variant"),
        ),
        (
            "/download/iso?variant=bogus",
            404,
            "not_found",
            Some("variant"),
        ),
        ("/download/checksum?algo=crc32", 400, "invalid_query", None),
        ("/download/manifest?format=xml", 400, "invalid_query", None),
        ("/download?include_iso=maybe", 400, "invalid_query", None),
    ] {
        let (got, body) = app.json(&built.api(rest)).await;
        assert_eq!(got.as_u16(), status, "{rest}: {body}");
        let (got_code, got_field) = error_parts(&body);
        assert_eq!(
            (got_code.as_str(), got_field.as_deref()),
            (code, field),
            "{rest}"
        );
    }
}

#[tokio::test]
async fn outputs_without_an_iso_or_a_manifest_answer_404_for_what_is_missing() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    write_output(&root, "ACME", "plain", &m, &[("install.wim", b"wim")]);
    std::fs::create_dir_all(root.join("8_Output/ACME/bare")).unwrap();
    std::fs::write(root.join("8_Output/ACME/bare/install.wim"), b"wim").unwrap();
    let app = start(&root).await;
    for path in [
        "/api/outputs/ACME/plain/download/iso",
        "/api/outputs/ACME/bare/download/wim",
        "/api/outputs/ACME/bare/download",
        "/api/outputs/ACME/bare/manifest",
        "/api/outputs/ACME/bare/download/checksum",
        "/api/outputs/ACME/nope/download/wim",
        "/api/outputs/NOPE/plain/manifest",
    ] {
        let (status, body) = app.json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(error_parts(&body).0, "not_found", "{path}");
    }
    let r = app
        .get("/api/outputs/ACME/plain/download/wim")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), &b"wim"[..]);
}

// ---------------------------------------------------------------------------------------
// The bundle

#[tokio::test]
async fn bundle_is_a_stored_zip_that_unzip_and_python_accept_and_whose_files_pass_md5sum() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let work = tempfile::tempdir().unwrap();
    let manifest = built.manifest();
    let mut images = Vec::new();
    let mut isos = Vec::new();
    for o in manifest["outputs"].as_array().unwrap() {
        images.push(o["image_file"].as_str().unwrap().to_string());
        isos.push(o["iso"]["file"].as_str().unwrap().to_string());
    }
    let meta = [
        "checksum.md5",
        "checksum.sha256",
        "manifest.json",
        "manifest.txt",
    ];

    for include_iso in [true, false] {
        let r = app
            .get(&built.api(&format!("/download?include_iso={include_iso}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CONTENT_TYPE), "application/zip");
        assert!(
            header(&r, CONTENT_DISPOSITION)
                .contains(&format!("filename=\"ACME_{}.zip\"", built.folder)),
            "{}",
            header(&r, CONTENT_DISPOSITION)
        );
        let announced: u64 = header(&r, CONTENT_LENGTH).parse().unwrap();
        let zip = work.path().join(format!("bundle-{include_iso}.zip"));
        assert_eq!(download_to(r, &zip).await, announced);

        run("unzip", &["-tq", zip.to_str().unwrap()], work.path());
        let members = python_zip_members(&zip);
        let mut want: Vec<String> = images.clone();
        if include_iso {
            // Each variant's WIM is followed by its ISO.
            want = images
                .iter()
                .zip(&isos)
                .flat_map(|(w, i)| [w.clone(), i.clone()])
                .collect();
        }
        want.extend(meta.iter().map(|m| m.to_string()));
        let got: Vec<String> = members.iter().map(|(n, _, _)| n.clone()).collect();
        let want: Vec<String> = want
            .iter()
            .map(|n| format!("{}/{n}", built.folder))
            .collect();
        assert_eq!(got, want);
        for (name, size, method) in &members {
            assert_eq!(*method, 0, "{name} is stored");
            let on_disk = built.dir().join(name.rsplit('/').next().unwrap());
            assert_eq!(*size, std::fs::metadata(on_disk).unwrap().len(), "{name}");
        }
    }

    // Unpacked, the folder checks out against its own checksum files.
    let out = work.path().join("unpacked");
    run(
        "unzip",
        &["-q", "bundle-true.zip", "-d", out.to_str().unwrap()],
        work.path(),
    );
    let folder = out.join(&built.folder);
    let md5 = run("md5sum", &["-c", "checksum.md5"], &folder);
    let sha = run("sha256sum", &["-c", "checksum.sha256"], &folder);
    for name in images.iter().chain(&isos) {
        assert!(md5.contains(&format!("{name}: OK")), "{md5}");
        assert!(sha.contains(&format!("{name}: OK")), "{sha}");
    }
}

/// Linux reports these in kB in /proc/self/status.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_of_an_image_over_4_gib_is_zip64_and_streams_in_flat_memory() {
    let _alone = MEMORY.write().await;
    const BIG: u64 = 4 * 1024 * 1024 * 1024 + 512 * 1024 * 1024;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    let dir = write_output(&root, "ACME", "big", &m, &[]);
    // Sparse: 4.5 GiB of holes with a marker at each end, so misplaced bytes show.
    let image = dir.join("install.wim");
    run(
        "truncate",
        &["-s", &BIG.to_string(), image.to_str().unwrap()],
        &dir,
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap();
    f.write_all(b"HEAD").unwrap();
    f.seek(SeekFrom::Start(BIG - 4)).unwrap();
    f.write_all(b"TAIL").unwrap();
    drop(f);

    let app = start(&root).await;
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("big.zip");
    // Peak memory from here on: reset the high-water mark to the current size.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = status_kib("VmRSS");
    let r = app
        .get("/api/outputs/ACME/big/download")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let announced: u64 = header(&r, CONTENT_LENGTH).parse().unwrap();
    assert!(announced > BIG);
    assert_eq!(download_to(r, &zip).await, announced);
    let peak = status_kib("VmHWM");
    let grew_mib = peak.saturating_sub(before) / 1024;
    eprintln!("streaming a {BIG}-byte bundle grew peak memory by {grew_mib} MiB");
    assert!(
        grew_mib < 200,
        "peak memory grew by {grew_mib} MiB while streaming a {BIG}-byte bundle"
    );

    let members = python_zip_members(&zip);
    let names: Vec<&str> = members.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "big/install.wim",
            "big/checksum.md5",
            "big/checksum.sha256",
            "big/manifest.json",
            "big/manifest.txt"
        ]
    );
    assert_eq!(members[0].1, BIG);
    // The archive's central directory lies past 4 GiB, so only the zip64 records can
    // place it; zipinfo reads them independently of Python.
    let listing = run("zipinfo", &["-1", zip.to_str().unwrap()], work.path());
    assert_eq!(listing.lines().collect::<Vec<_>>(), names);
}
