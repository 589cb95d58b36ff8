//! Deterministic mutation testing (cargo-fuzz needs nightly): a small UDF
//! image and a small ISO 9660 image get seeded byte flips, truncations and
//! insertions; open + list + read-all must never panic and stay fast.
//!
//! Default: a few thousand cases. Long run:
//! `WAIT_FUZZ_CASES=200000 cargo test -p wait-media --release --test iso_fuzz -- --ignored`

mod common;

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use common::udf_builder::{self, Node, Opts};
use common::*;
use wait_media::iso::{IsoImage, Prefer};

/// Per-file read cap: a mutated size may claim terabytes of zeros.
const READ_CAP: u64 = 8 << 20;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let dir = tmp();
    let tree = || {
        vec![
            Node::Dir(
                "sources".into(),
                vec![Node::File("install.wim".into(), pseudo_random(5000, 1))],
            ),
            Node::Dir(
                "d".into(),
                vec![Node::Dir(
                    "e".into(),
                    vec![Node::File("f.txt".into(), b"hello".to_vec())],
                )],
            ),
            Node::File("small".into(), b"tiny".to_vec()),
        ]
    };
    let mut out = Vec::new();
    let p = path_in(&dir, "u.iso");
    udf_builder::build(
        &p,
        "F",
        tree(),
        &Opts {
            iso_readme: Some(b"readme".to_vec()),
            ..Opts::default()
        },
    );
    out.push(("udf", std::fs::read(&p).expect("read")));
    let p = path_in(&dir, "m.iso");
    let opts = Opts {
        metadata_partition: true,
        extended_entries: true,
        embed_small: true,
        names16: true,
        ..Opts::default()
    };
    udf_builder::build(&p, "F", tree(), &opts);
    out.push(("udf250", std::fs::read(&p).expect("read")));
    let src = path_in(&dir, "tree");
    write(&src, "sources/install.wim", &pseudo_random(5000, 2));
    write(&src, "d/e/f.txt", b"hello");
    let p = path_in(&dir, "j.iso");
    xorriso_joliet(&src, &p, "F", &[]);
    out.push(("joliet", std::fs::read(&p).expect("read")));
    out
}

/// Mutations aimed where the structures are: the first 300 blocks hold every
/// descriptor of these small images.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let hot = data.len().min(300 * 2048);
        match rng.below(10) {
            0 => {
                let at = rng.below(data.len());
                data.truncate(at);
            }
            1 => {
                let at = rng.below(hot);
                let n = 1 + rng.below(64);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            2 => {
                // Interesting values in a 4-byte field.
                let at = rng.below(hot.saturating_sub(4));
                let v: u32 = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, 256, 2048][rng.below(7)];
                if let Some(s) = data.get_mut(at..at + 4) {
                    s.copy_from_slice(&v.to_le_bytes());
                }
            }
            _ => {
                if hot > 0 {
                    let at = rng.below(hot);
                    data[at] ^= 1 << rng.below(8);
                }
            }
        }
        if data.is_empty() {
            break;
        }
    }
}

fn exercise(data: Vec<u8>, prefer: Prefer) -> bool {
    let Ok(mut img) = IsoImage::from_reader(Cursor::new(data), "fuzz.iso", prefer) else {
        return false;
    };
    let _ = img.volume_label();
    let _ = img.find_install_image();
    let files: Vec<String> = img
        .list()
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.path.clone())
        .collect();
    for f in files {
        if let Ok(file) = img.open_file(&f) {
            let mut sink = Vec::new();
            let _ = file.take(READ_CAP).read_to_end(&mut sink);
        }
    }
    true
}

fn run(cases: u64, seed: u64) -> u64 {
    let seeds = seeds();
    // Each seed image must itself be readable.
    for (name, data) in &seeds {
        IsoImage::from_reader(Cursor::new(data.clone()), *name, Prefer::Udf)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let mut rng = Rng(seed | 1);
    let mut slowest = Duration::ZERO;
    let mut opened = 0u64;
    for case in 0..cases {
        let (name, base) = &seeds[(case % seeds.len() as u64) as usize];
        let mut data = base.clone();
        mutate(&mut rng, &mut data);
        let prefer = if case % 7 == 0 {
            Prefer::Iso9660
        } else {
            Prefer::Udf
        };
        let started = Instant::now();
        opened += u64::from(exercise(data, prefer));
        let took = started.elapsed();
        slowest = slowest.max(took);
        assert!(
            took < Duration::from_secs(5),
            "case {case} ({name}) took {took:?}"
        );
    }
    eprintln!("fuzz: {cases} cases, {opened} opened and read, slowest {slowest:?}");
    cases
}

#[test]
fn fuzz_mutations_default() {
    run(5000, 0x5EED);
}

#[test]
#[ignore = "long run: WAIT_FUZZ_CASES=200000 cargo test -p wait-media --release --test iso_fuzz -- --ignored"]
fn fuzz_mutations_long() {
    let cases = std::env::var("WAIT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let seed = std::env::var("WAIT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xC0FFEE);
    run(cases, seed);
}
