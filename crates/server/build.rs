//! Rebuild the server when the web UI's build output changes, so the embedded copy is
//! never stale. Only reads; writes nothing.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // `web/dist` when it exists; otherwise `web/`, whose contents change when `make web`
    // creates `dist` (watching a missing path would rebuild the server every time).
    let dist = Path::new("../../web/dist");
    if dist.is_dir() {
        println!("cargo::rerun-if-changed=../../web/dist");
    } else {
        println!("cargo::rerun-if-changed=../../web");
    }
}
