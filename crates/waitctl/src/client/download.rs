//! `waitctl job download`: fetch a job's output file. A partial file left by an earlier
//! attempt is continued with `Range`; the size is checked against the server's, and an
//! image (wim/iso) is checked against the output's own `checksum.sha256`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, HeaderMap, RANGE};
use reqwest::{Method, Url};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::http::Api;
use super::jobs::get_job;

#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The job id.
    pub id: String,
    /// Which file: the whole output as a ZIP, the image, its ISO, the SHA-256 list or
    /// the manifest.
    #[arg(long, default_value = "bundle", value_parser = ["bundle", "wim", "iso", "checksum", "manifest"])]
    pub what: String,
    /// Which variant's image when the job built both.
    #[arg(long, value_parser = ["key", "nokey"])]
    pub variant: Option<String>,
    /// Destination file, or an existing folder (default: the server's file name here).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

pub async fn run(api: &Api, args: DownloadArgs, json: bool) -> anyhow::Result<ExitCode> {
    let job = get_job(api, Some(&args.id)).await?;
    let Some((customer, folder)) = job["output_dir"].as_str().and_then(|d| d.split_once('/'))
    else {
        bail!(
            "job {} has no output (status {})",
            args.id,
            job["status"].as_str().unwrap_or("unknown")
        );
    };
    let mut segments = vec!["api", "outputs", customer, folder, "download"];
    if args.what != "bundle" {
        segments.push(&args.what);
    }
    let variant = args.variant.as_deref().unwrap_or_default();
    let url = api.url(&segments, &[("variant", variant)]);

    // HEAD first: the file's name and full size decide the destination and the resume.
    let head = api
        .send(api.request(Method::HEAD, url.clone()), "the download")
        .await?;
    let served = served_name(head.headers())
        .unwrap_or_else(|| format!("{folder}.{}", default_extension(&args.what)));
    let total = length(head.headers());
    let dest = match &args.output {
        Some(path) if path.is_dir() => path.join(&served),
        Some(path) => path.clone(),
        None => PathBuf::from(&served),
    };

    let have = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
    let resumed_from = match total {
        Some(total) if have == total => have,
        Some(total) if have > 0 && have < total => {
            fetch(api, url, &dest, have, Some(total)).await?
        }
        _ => fetch(api, url, &dest, 0, total).await?,
    };
    let size = std::fs::metadata(&dest)
        .with_context(|| format!("cannot read {}", dest.display()))?
        .len();
    if let Some(total) = total {
        if size != total {
            bail!(
                "{}: {size} bytes, but the server has {total} (run the same command again to resume)",
                dest.display()
            );
        }
    }
    let sha256 = if matches!(args.what.as_str(), "wim" | "iso") {
        let recorded = recorded_sha256(api, customer, folder, &served).await?;
        let actual = file_sha256(&dest).await?;
        if actual != recorded {
            bail!(
                "{}: SHA-256 {actual} does not match {recorded} in the output's checksum.sha256 \
                 (delete the file and download again)",
                dest.display()
            );
        }
        Some(actual)
    } else {
        None
    };
    if json {
        println!(
            "{}",
            json!({"path": dest, "bytes": size, "resumed_from": resumed_from, "sha256": sha256})
        );
    } else {
        let resumed = if resumed_from > 0 {
            format!(", resumed at byte {resumed_from}")
        } else {
            String::new()
        };
        let check = if sha256.is_some() {
            ", SHA-256 verified"
        } else {
            ""
        };
        println!("{} ({size} bytes{resumed}{check})", dest.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn default_extension(what: &str) -> &'static str {
    match what {
        "wim" => "wim",
        "iso" => "iso",
        "checksum" => "sha256",
        "manifest" => "json",
        _ => "zip",
    }
}

/// The file name of `Content-Disposition`, reduced to a plain name (never a path).
fn served_name(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_DISPOSITION)?.to_str().ok()?;
    let at = value.find("filename=")? + "filename=".len();
    let rest = &value[at..];
    let name = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split(';').next()?.trim(),
    };
    let name = name.rsplit(['/', '\\']).next()?;
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
}

fn length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The first byte of a `Content-Range: bytes a-b/n` answer.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// Write the file from byte `from` on (0: the whole file); returns where it started.
async fn fetch(
    api: &Api,
    url: Url,
    dest: &Path,
    from: u64,
    total: Option<u64>,
) -> anyhow::Result<u64> {
    let mut req = api.request(Method::GET, url);
    if from > 0 {
        req = req.header(RANGE, format!("bytes={from}-"));
    }
    let mut resp = api.send(req, "the download").await?;
    // 206 from where we asked continues the file; anything else is the whole file
    let start = if resp.status().as_u16() == 206 && range_start(resp.headers()) == Some(from) {
        from
    } else {
        0
    };
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(start > 0)
        .truncate(start == 0)
        .open(dest)
        .await
        .with_context(|| format!("cannot write {}", dest.display()))?;
    let bar = ProgressBar::new(total.unwrap_or(0));
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        bar.set_style(style);
    }
    bar.set_position(start);
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                file.flush().await.ok();
                bar.abandon();
                return Err(anyhow::Error::new(api.unreachable(&e))
                    .context(format!("download of {} interrupted", dest.display())));
            }
        };
        file.write_all(&chunk)
            .await
            .with_context(|| format!("cannot write {}", dest.display()))?;
        bar.inc(chunk.len() as u64);
    }
    file.flush()
        .await
        .with_context(|| format!("cannot write {}", dest.display()))?;
    bar.finish_and_clear();
    Ok(start)
}

/// The SHA-256 the output's `checksum.sha256` records for `name`.
async fn recorded_sha256(
    api: &Api,
    customer: &str,
    folder: &str,
    name: &str,
) -> anyhow::Result<String> {
    let url = api.url(
        &["api", "outputs", customer, folder, "download", "checksum"],
        &[("algo", "sha256")],
    );
    let resp = api
        .send(api.request(Method::GET, url), "the checksum file")
        .await?;
    let text = resp
        .text()
        .await
        .map_err(|e| api.unreachable(&e))
        .context("cannot read the checksum file")?;
    match checksum_for(&text, name) {
        Some(sum) => Ok(sum),
        None => bail!("the output's checksum.sha256 lists no {name}"),
    }
}

/// `sha256sum` format: `<hex>  <name>` (or `<hex> *<name>`).
fn checksum_for(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (hash, rest) = line.trim_end().split_once(' ')?;
        let listed = rest.trim_start_matches([' ', '*']);
        (listed == name && hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| hash.to_ascii_lowercase())
    })
}

async fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let mut file = std::fs::File::open(&owned)
            .with_context(|| format!("cannot open {}", owned.display()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .with_context(|| format!("cannot read {}", owned.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .context("the hashing task stopped")?
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(name: reqwest::header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn served_names_never_become_paths() {
        let cases = [
            (
                "attachment; filename=\"install.wim\"; filename*=UTF-8''install.wim",
                Some("install.wim"),
            ),
            ("attachment; filename=a.zip", Some("a.zip")),
            ("attachment; filename=\"../../etc/passwd\"", Some("passwd")),
            ("attachment; filename=\"..\"", None),
            ("attachment; filename=\"\"", None),
            ("attachment", None),
        ];
        for (value, want) in cases {
            let got = served_name(&headers(CONTENT_DISPOSITION, value));
            assert_eq!(got.as_deref(), want, "{value}");
        }
    }

    #[test]
    fn content_range_start_is_read() {
        let cases = [
            ("bytes 100-199/200", Some(100)),
            ("bytes */200", None),
            ("items 1-2/3", None),
        ];
        for (value, want) in cases {
            assert_eq!(range_start(&headers(CONTENT_RANGE, value)), want, "{value}");
        }
    }

    #[test]
    fn checksum_lines_are_matched_by_exact_name() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let text = format!("{a}  install.wim\n{b} *x.iso\nnothex  y\n");
        assert_eq!(checksum_for(&text, "install.wim"), Some(a));
        assert_eq!(checksum_for(&text, "x.iso"), Some("b".repeat(64)));
        assert_eq!(checksum_for(&text, "install"), None);
        assert_eq!(checksum_for(&text, "y"), None);
    }
}
