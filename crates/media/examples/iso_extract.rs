//! Lists an ISO or extracts one file from it, timing the copy:
//! `cargo run --release -p wait-media --example iso_extract -- IMAGE [PATH DEST]`

use std::time::Instant;

use wait_media::iso::IsoImage;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(image) = args.first() else {
        eprintln!("usage: iso_extract IMAGE [PATH DEST]");
        std::process::exit(2);
    };
    let mut img = IsoImage::open(image)?;
    match (args.get(1), args.get(2)) {
        (Some(path), Some(dest)) => {
            let started = Instant::now();
            // WAIT_STREAM=1 measures the portable path (open_file + 4 MiB buffer).
            let n = if std::env::var_os("WAIT_STREAM").is_some() {
                let mut out = std::fs::File::create(dest)?;
                let mut f = img.open_file(path)?;
                let kib: usize = std::env::var("WAIT_STREAM")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1024);
                let mut buf = vec![0u8; kib << 10];
                let mut n = 0u64;
                loop {
                    let k = std::io::Read::read(&mut f, &mut buf)?;
                    if k == 0 {
                        break;
                    }
                    std::io::Write::write_all(&mut out, &buf[..k])?;
                    n += k as u64;
                }
                n
            } else {
                img.extract(path, dest)?
            };
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{n} bytes in {secs:.3} s ({:.0} MiB/s)",
                n as f64 / secs / 1048576.0
            );
        }
        _ => {
            println!("{:?} label {:?}", img.filesystem(), img.volume_label());
            for e in img.list() {
                println!(
                    "{}\t{}\t{}",
                    if e.is_dir { "d" } else { "f" },
                    e.size,
                    e.path
                );
            }
        }
    }
    Ok(())
}
