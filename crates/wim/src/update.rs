//! Changing images: export from another WIM, capture a directory, update commands.

use std::ffi::CString;
use std::path::Path;
use std::ptr;

use libc::c_int;

use crate::cstr;
use crate::error::{ErrorContext, Result, WimError, check};
use crate::lock::lock_all;
use crate::sys;
use crate::types::UpdateCommand;
use crate::wim::Wim;

/// Flags for every host-directory capture: no Windows security descriptors (nothing
/// to read on Linux, and no privileges needed); UNIX owner/mode data stays off.
const ADD_FLAGS: c_int = sys::WIMLIB_ADD_FLAG_NO_ACLS;

/// `NotFound` when a host path is missing, `InvalidArgument` for other stat failures.
fn host_path_must_exist(path: &Path) -> Result<std::fs::Metadata> {
    std::fs::symlink_metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            WimError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            WimError::InvalidArgument(format!("{}: {e}", path.display()))
        }
    })
}

/// The C strings of one command, kept alive while libwim runs.
enum OwnedCommand {
    Add { source: CString, target: CString },
    Delete { path: CString },
    Rename { from: CString, to: CString },
}

impl OwnedCommand {
    fn new(cmd: &UpdateCommand) -> Result<Self> {
        Ok(match cmd {
            UpdateCommand::Add { source, target } => {
                host_path_must_exist(source)?;
                OwnedCommand::Add {
                    source: cstr::path(source)?,
                    target: cstr::text(target, "image path")?,
                }
            }
            UpdateCommand::Delete { path } => OwnedCommand::Delete {
                path: cstr::text(path, "image path")?,
            },
            UpdateCommand::Rename { from, to } => OwnedCommand::Rename {
                from: cstr::text(from, "image path")?,
                to: cstr::text(to, "image path")?,
            },
        })
    }

    /// The C view; its pointers borrow from `self`. libwim only reads them.
    fn raw(&self) -> sys::wimlib_update_command {
        match self {
            OwnedCommand::Add { source, target } => sys::wimlib_update_command {
                op: sys::WIMLIB_UPDATE_OP_ADD,
                u: sys::wimlib_update_command_u {
                    add: sys::wimlib_add_command {
                        fs_source_path: source.as_ptr().cast_mut(),
                        wim_target_path: target.as_ptr().cast_mut(),
                        config_file: ptr::null_mut(),
                        add_flags: ADD_FLAGS,
                    },
                },
            },
            OwnedCommand::Delete { path } => sys::wimlib_update_command {
                op: sys::WIMLIB_UPDATE_OP_DELETE,
                u: sys::wimlib_update_command_u {
                    delete_: sys::wimlib_delete_command {
                        wim_path: path.as_ptr().cast_mut(),
                        delete_flags: sys::WIMLIB_DELETE_FLAG_FORCE
                            | sys::WIMLIB_DELETE_FLAG_RECURSIVE,
                    },
                },
            },
            OwnedCommand::Rename { from, to } => sys::wimlib_update_command {
                op: sys::WIMLIB_UPDATE_OP_RENAME,
                u: sys::wimlib_update_command_u {
                    rename: sys::wimlib_rename_command {
                        wim_source_path: from.as_ptr().cast_mut(),
                        wim_target_path: to.as_ptr().cast_mut(),
                        rename_flags: 0,
                    },
                },
            },
        }
    }
}

impl<'src> Wim<'src> {
    /// Export `image` from `src` into this WIM as a new image; returns its index here.
    ///
    /// Only metadata is copied now; file data is read from `src` when this WIM is
    /// written, which is why `src` must outlive `self` (`'src`). While both share the
    /// image, libwim refuses to `update_image` it (a `Library` error). The description
    /// and the other XML properties come from `src`; `new_name` replaces the name.
    pub fn export_image_from(
        &mut self,
        src: &'src Wim<'_>,
        image: u32,
        new_name: Option<&str>,
    ) -> Result<u32> {
        let c_name = new_name.map(|n| cstr::text(n, "image name")).transpose()?;
        let new_index = {
            let _held = lock_all(
                std::iter::once(&self.lock)
                    .chain(&self.sources)
                    .chain(std::iter::once(&src.lock))
                    .chain(&src.sources),
            );
            if self.spent || src.spent {
                return Err(WimError::InvalidArgument(
                    "handle unusable after overwrite; open the file again".to_owned(),
                ));
            }
            let src_index = src.check_image(image)?;
            let name_ptr = c_name.as_ref().map_or(ptr::null(), |c| c.as_ptr());
            // SAFETY: both handles are live and locked; `name_ptr` is NULL or a C string
            // outliving the call. `'src` keeps `src` alive for as long as `self` may
            // read from it, and `src` cannot be mutated meanwhile (it is borrowed).
            let rc = unsafe {
                sys::wimlib_export_image(
                    src.raw.as_ptr(),
                    src_index,
                    self.raw.as_ptr(),
                    name_ptr,
                    ptr::null(),
                    0,
                )
            };
            let src_count = src.raw_info().image_count;
            check(
                rc,
                &ErrorContext {
                    wim_path: src.path.as_deref(),
                    image: Some((image, src_count)),
                    ..Default::default()
                },
            )?;
            self.raw_info().image_count
        };
        self.sources.push(src.lock.clone());
        self.sources.extend(src.sources.iter().cloned());
        Ok(new_index)
    }

    /// Export several images of `src` (in the given order; `&[]` = none), keeping
    /// their names; returns their new indexes here. Data shared between the images
    /// (and with images already here) is stored once when this WIM is written. Stops
    /// at the first failure, keeping the images exported before it; a name already
    /// used here is a `Library` error.
    pub fn export_images_from(&mut self, src: &'src Wim<'_>, images: &[u32]) -> Result<Vec<u32>> {
        images
            .iter()
            .map(|&image| self.export_image_from(src, image, None))
            .collect()
    }

    /// Export every image of `src`, as [`Wim::export_images_from`] with `1..=count`.
    pub fn export_all_images_from(&mut self, src: &'src Wim<'_>) -> Result<Vec<u32>> {
        let all: Vec<u32> = (1..=src.image_count()).collect();
        self.export_images_from(src, &all)
    }

    /// Apply `commands` to `image`, all or nothing (libwim rolls back on failure).
    ///
    /// * `Add` captures the host file or tree at `target`, replacing existing files
    ///   and merging into existing directories; a missing host path is `NotFound`.
    /// * `Delete` removes a file or whole tree; deleting a missing path is not an error.
    /// * `Rename` moves within the image; a missing source is `PathNotInImage`.
    ///
    /// Image paths use '/' (a leading '/' is optional). Progress: `Stage::Scan` for
    /// adds and `Stage::Update` with command counts.
    pub fn update_image(&mut self, image: u32, commands: &[UpdateCommand]) -> Result<()> {
        let owned = commands
            .iter()
            .map(OwnedCommand::new)
            .collect::<Result<Vec<_>>>()?;
        let raw_cmds: Vec<sys::wimlib_update_command> =
            owned.iter().map(OwnedCommand::raw).collect();
        let _held = self.begin()?;
        let index = self.check_image(image)?;
        if raw_cmds.is_empty() {
            return Ok(());
        }
        // SAFETY: live, locked handle; `raw_cmds` points into `owned`, and both outlive
        // the call; the progress hook (if any) is owned by `self`.
        let rc = unsafe {
            sys::wimlib_update_image(
                self.raw.as_ptr(),
                index,
                raw_cmds.as_ptr(),
                raw_cmds.len(),
                sys::WIMLIB_UPDATE_FLAG_SEND_PROGRESS,
            )
        };
        self.resume_progress_panic();
        let missing = if rc == sys::WIMLIB_ERR_PATH_DOES_NOT_EXIST {
            // The image is rolled back, so the first rename source that is absent now
            // is the culprit (deletes are forced and never report this).
            commands
                .iter()
                .find_map(|c| match c {
                    UpdateCommand::Rename { from, .. } if !self.raw_exists(index, from) => {
                        Some(from.clone())
                    }
                    _ => None,
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        let count = self.raw_info().image_count;
        check(
            rc,
            &ErrorContext {
                image: Some((image, count)),
                image_path: Some(&missing),
                ..self.ctx()
            },
        )
    }

    /// Capture a host directory as a new image; returns its index.
    ///
    /// No ACLs and no UNIX owner/mode data are captured, so no privileges are needed.
    /// File data is read when the WIM is written. A missing `source` is `NotFound`, a
    /// non-directory `InvalidArgument`; a name already used is a `Library` error.
    pub fn add_image(&mut self, source: &Path, name: &str) -> Result<u32> {
        let meta = host_path_must_exist(source)?;
        if !meta.is_dir() {
            return Err(WimError::InvalidArgument(format!(
                "{} is not a directory",
                source.display()
            )));
        }
        let c_source = cstr::path(source)?;
        let c_name = cstr::text(name, "image name")?;
        let _held = self.begin()?;
        // SAFETY: live, locked handle; C strings outlive the call; NULL config file
        // means libwim's default capture configuration.
        let rc = unsafe {
            sys::wimlib_add_image(
                self.raw.as_ptr(),
                c_source.as_ptr(),
                c_name.as_ptr(),
                ptr::null(),
                ADD_FLAGS,
            )
        };
        self.resume_progress_panic();
        check(rc, &self.ctx())?;
        Ok(self.raw_info().image_count)
    }
}
