//! Link the system libwim. pkg-config is asked first; Debian's wimlib.pc names private
//! dependencies (ntfs-3g, fuse) whose .pc files need not be installed, and pkg-config
//! then refuses the module, so plain `-lwim` is the fallback.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    match pkg_config::Config::new()
        .atleast_version("1.13.0")
        .probe("wimlib")
    {
        Ok(_) => {}
        // If this link fails too, libwim-dev is missing: scripts/bootstrap installs it.
        Err(_) => println!("cargo:rustc-link-lib=wim"),
    }
}
