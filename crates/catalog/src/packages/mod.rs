//! Parsers for the metadata inside update and language-pack packages: the `update.mum`
//! manifest of a `.cab` package and the `*-pkgProperties.txt` of a classic `.msu`.
//! Reading the containers themselves is not done here: these work on the bytes of one
//! member, and the caller passes a name (container and member) for messages.

mod error;
mod mum;
mod props;

pub use error::{PackageError, PackageProblem};
pub use mum::{
    AssemblyIdentity, MAX_ATTRIBUTE, MAX_MUM_BYTES, MumPackage, UpdateMum, parse_update_mum,
};
pub use props::{MAX_PROPS_BYTES, PkgProperties, parse_pkg_properties};
