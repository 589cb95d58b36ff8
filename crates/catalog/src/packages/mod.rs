//! Update and language-pack packages: the metadata parsers (`update.mum` of a `.cab`
//! package, `*-pkgProperties.txt` of a classic `.msu`), the containers themselves
//! (`inspect_package`), whether a package fits an image, and checkpoint staging plans.
//! The parsers work on the bytes of one member, and the caller passes a name (container
//! and member) for messages.

mod cabfile;
mod container;
mod error;
mod fit;
mod mum;
mod names;
mod plan;
mod props;

pub use container::{ApplyPlan, MAX_INNER_CAB, PackageInfo, PackageKind, inspect_package};
pub use error::{PackageError, PackageProblem};
pub use fit::{
    Fit, RELEASE_NAMES, SERVICING_BASELINES, build_of_release, package_fits, servicing_baseline,
};
pub use mum::{
    AssemblyIdentity, MAX_ATTRIBUTE, MAX_MUM_BYTES, MumPackage, UpdateMum, parse_update_mum,
};
pub use plan::{
    CHECKPOINTS, Checkpoint, MissingCheckpoint, PlannedUpdate, UpdatePlan, plan_updates,
};
pub use props::{MAX_PROPS_BYTES, PkgProperties, parse_pkg_properties};
