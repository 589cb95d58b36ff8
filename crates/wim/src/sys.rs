//! Raw declarations for the subset of libwim (wimlib 1.13) that this crate uses.
//!
//! Written by hand from `wimlib.h`. On non-Windows systems `wimlib_tchar` is `char`
//! (UTF-8), which is what every string parameter below takes. Only the structures
//! and union members that the safe layer reads or builds are declared; a test in
//! this file compares their sizes and offsets with the real header.

#![allow(non_camel_case_types, reason = "names follow the C header")]

use libc::{c_char, c_int, c_uint, c_void, size_t};

/// Opaque handle type (`WIMStruct`).
#[repr(C)]
pub(crate) struct WIMStruct {
    _private: [u8; 0],
    // Not Send, not Sync, not Unpin: it is only ever handled through a pointer.
    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

pub(crate) const WIMLIB_ALL_IMAGES: c_int = -1;

// enum wimlib_compression_type
pub(crate) const WIMLIB_COMPRESSION_TYPE_NONE: c_int = 0;
pub(crate) const WIMLIB_COMPRESSION_TYPE_XPRESS: c_int = 1;
pub(crate) const WIMLIB_COMPRESSION_TYPE_LZX: c_int = 2;
pub(crate) const WIMLIB_COMPRESSION_TYPE_LZMS: c_int = 3;

// enum wimlib_progress_msg (only the ones the safe layer looks at)
pub(crate) const WIMLIB_PROGRESS_MSG_EXTRACT_STREAMS: c_int = 4;
pub(crate) const WIMLIB_PROGRESS_MSG_SCAN_BEGIN: c_int = 9;
pub(crate) const WIMLIB_PROGRESS_MSG_SCAN_DENTRY: c_int = 10;
pub(crate) const WIMLIB_PROGRESS_MSG_SCAN_END: c_int = 11;
pub(crate) const WIMLIB_PROGRESS_MSG_WRITE_STREAMS: c_int = 12;
pub(crate) const WIMLIB_PROGRESS_MSG_VERIFY_INTEGRITY: c_int = 16;
pub(crate) const WIMLIB_PROGRESS_MSG_CALC_INTEGRITY: c_int = 17;
pub(crate) const WIMLIB_PROGRESS_MSG_SPLIT_BEGIN_PART: c_int = 19;
pub(crate) const WIMLIB_PROGRESS_MSG_SPLIT_END_PART: c_int = 20;
pub(crate) const WIMLIB_PROGRESS_MSG_UPDATE_BEGIN_COMMAND: c_int = 21;
pub(crate) const WIMLIB_PROGRESS_MSG_UPDATE_END_COMMAND: c_int = 22;
pub(crate) const WIMLIB_PROGRESS_MSG_VERIFY_STREAMS: c_int = 29;

// enum wimlib_progress_status
pub(crate) const WIMLIB_PROGRESS_STATUS_CONTINUE: c_int = 0;
pub(crate) const WIMLIB_PROGRESS_STATUS_ABORT: c_int = 1;

pub(crate) const WIMLIB_FILE_ATTRIBUTE_DIRECTORY: u32 = 0x0000_0010;

pub(crate) const WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE: c_int = 0x0000_0001;

pub(crate) const WIMLIB_ADD_FLAG_NO_ACLS: c_int = 0x0000_0020;

pub(crate) const WIMLIB_DELETE_FLAG_FORCE: c_int = 0x0000_0001;
pub(crate) const WIMLIB_DELETE_FLAG_RECURSIVE: c_int = 0x0000_0002;

pub(crate) const WIMLIB_EXTRACT_FLAG_NO_ACLS: c_int = 0x0000_0040;
pub(crate) const WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE: c_int = 0x0020_0000;

pub(crate) const WIMLIB_OPEN_FLAG_CHECK_INTEGRITY: c_int = 0x0000_0001;

pub(crate) const WIMLIB_UPDATE_FLAG_SEND_PROGRESS: c_int = 0x0000_0001;

pub(crate) const WIMLIB_WRITE_FLAG_CHECK_INTEGRITY: c_int = 0x0000_0001;
pub(crate) const WIMLIB_WRITE_FLAG_NO_CHECK_INTEGRITY: c_int = 0x0000_0002;
pub(crate) const WIMLIB_WRITE_FLAG_RECOMPRESS: c_int = 0x0000_0010;
pub(crate) const WIMLIB_WRITE_FLAG_REBUILD: c_int = 0x0000_0040;
pub(crate) const WIMLIB_WRITE_FLAG_RETAIN_GUID: c_int = 0x0000_0800;
pub(crate) const WIMLIB_WRITE_FLAG_SOLID: c_int = 0x0000_1000;

pub(crate) const WIMLIB_CHANGE_GUID: c_int = 0x0000_0002;

// enum wimlib_update_op
pub(crate) const WIMLIB_UPDATE_OP_ADD: c_int = 0;
pub(crate) const WIMLIB_UPDATE_OP_DELETE: c_int = 1;
pub(crate) const WIMLIB_UPDATE_OP_RENAME: c_int = 2;

// enum wimlib_error_code (the ones the safe layer classifies)
pub(crate) const WIMLIB_ERR_DECOMPRESSION: c_int = 2;
pub(crate) const WIMLIB_ERR_IMAGE_COUNT: c_int = 10;
pub(crate) const WIMLIB_ERR_INVALID_CHUNK_SIZE: c_int = 15;
pub(crate) const WIMLIB_ERR_INTEGRITY: c_int = 13;
pub(crate) const WIMLIB_ERR_INVALID_HEADER: c_int = 17;
pub(crate) const WIMLIB_ERR_INVALID_IMAGE: c_int = 18;
pub(crate) const WIMLIB_ERR_INVALID_INTEGRITY_TABLE: c_int = 19;
pub(crate) const WIMLIB_ERR_INVALID_LOOKUP_TABLE_ENTRY: c_int = 20;
pub(crate) const WIMLIB_ERR_INVALID_METADATA_RESOURCE: c_int = 21;
pub(crate) const WIMLIB_ERR_INVALID_RESOURCE_HASH: c_int = 28;
pub(crate) const WIMLIB_ERR_METADATA_NOT_FOUND: c_int = 36;
pub(crate) const WIMLIB_ERR_NOT_A_WIM_FILE: c_int = 43;
pub(crate) const WIMLIB_ERR_OPEN: c_int = 47;
pub(crate) const WIMLIB_ERR_PATH_DOES_NOT_EXIST: c_int = 49;
pub(crate) const WIMLIB_ERR_READ: c_int = 50;
pub(crate) const WIMLIB_ERR_SPLIT_INVALID: c_int = 62;
pub(crate) const WIMLIB_ERR_UNEXPECTED_END_OF_FILE: c_int = 65;
pub(crate) const WIMLIB_ERR_UNKNOWN_VERSION: c_int = 67;
pub(crate) const WIMLIB_ERR_UNSUPPORTED: c_int = 68;
pub(crate) const WIMLIB_ERR_XML: c_int = 73;
pub(crate) const WIMLIB_ERR_ABORTED_BY_PROGRESS: c_int = 76;
pub(crate) const WIMLIB_ERR_WIM_IS_INCOMPLETE: c_int = 84;

/// `struct wimlib_wim_info`. The C bitfields (`has_integrity_table` is bit 0,
/// `opened_from_file` bit 1, ...) are declared as one `u32` word.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct wimlib_wim_info {
    pub guid: [u8; 16],
    pub image_count: u32,
    pub boot_index: u32,
    pub wim_version: u32,
    pub chunk_size: u32,
    pub part_number: u16,
    pub total_parts: u16,
    pub compression_type: i32,
    pub total_bytes: u64,
    pub flags: u32,
    pub reserved: [u32; 9],
}

pub(crate) const WIM_INFO_FLAG_HAS_INTEGRITY_TABLE: u32 = 1 << 0;

// Bits of `wimlib_resource_entry::flags` (the C bitfields, in declaration order).
pub(crate) const RESOURCE_FLAG_IS_COMPRESSED: u32 = 1 << 0;
pub(crate) const RESOURCE_FLAG_IS_MISSING: u32 = 1 << 4;
pub(crate) const RESOURCE_FLAG_PACKED: u32 = 1 << 5;

/// `struct wimlib_resource_entry`; the bitfields after `reference_count` are one `u32`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_resource_entry {
    pub uncompressed_size: u64,
    pub compressed_size: u64,
    pub offset: u64,
    pub sha1_hash: [u8; 20],
    pub part_number: u32,
    pub reference_count: u32,
    pub flags: u32,
    pub raw_resource_offset_in_wim: u64,
    pub raw_resource_compressed_size: u64,
    pub raw_resource_uncompressed_size: u64,
    pub reserved: [u64; 1],
}

/// `struct wimlib_stream_entry`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_stream_entry {
    pub stream_name: *const c_char,
    pub resource: wimlib_resource_entry,
    pub reserved: [u64; 4],
}

/// `struct wimlib_object_id`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_object_id {
    pub object_id: [u8; 16],
    pub birth_volume_id: [u8; 16],
    pub birth_object_id: [u8; 16],
    pub domain_id: [u8; 16],
}

/// `struct wimlib_dir_entry`. It ends in a flexible array member of
/// `1 + num_named_streams` stream entries, modelled as a zero-length array.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct wimlib_dir_entry {
    pub filename: *const c_char,
    pub dos_name: *const c_char,
    pub full_path: *const c_char,
    pub depth: size_t,
    pub security_descriptor: *const c_char,
    pub security_descriptor_size: size_t,
    pub attributes: u32,
    pub reparse_tag: u32,
    pub num_links: u32,
    pub num_named_streams: u32,
    pub hard_link_group_id: u64,
    pub creation_time: libc::timespec,
    pub last_write_time: libc::timespec,
    pub last_access_time: libc::timespec,
    pub unix_uid: u32,
    pub unix_gid: u32,
    pub unix_mode: u32,
    pub unix_rdev: u32,
    pub object_id: wimlib_object_id,
    pub creation_time_high: i32,
    pub last_write_time_high: i32,
    pub last_access_time_high: i32,
    pub reserved2: i32,
    pub reserved: [u64; 4],
    pub streams: [wimlib_stream_entry; 0],
}

/// `struct wimlib_progress_info_write_streams`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_write_streams {
    pub total_bytes: u64,
    pub total_streams: u64,
    pub completed_bytes: u64,
    pub completed_streams: u64,
    pub num_threads: u32,
    pub compression_type: i32,
    pub total_parts: u32,
    pub completed_parts: u32,
    pub completed_compressed_bytes: u64,
}

/// `struct wimlib_progress_info_scan` (the anonymous union is one pointer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_scan {
    pub source: *const c_char,
    pub cur_path: *const c_char,
    pub status: c_int,
    pub wim_target_path_or_symlink_target: *const c_char,
    pub num_dirs_scanned: u64,
    pub num_nondirs_scanned: u64,
    pub num_bytes_scanned: u64,
}

/// `struct wimlib_progress_info_extract`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_extract {
    pub image: u32,
    pub extract_flags: u32,
    pub wimfile_name: *const c_char,
    pub image_name: *const c_char,
    pub target: *const c_char,
    pub reserved: *const c_char,
    pub total_bytes: u64,
    pub completed_bytes: u64,
    pub total_streams: u64,
    pub completed_streams: u64,
    pub part_number: u32,
    pub total_parts: u32,
    pub guid: [u8; 16],
    pub current_file_count: u64,
    pub end_file_count: u64,
}

/// `struct wimlib_progress_info_update`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_update {
    pub command: *const wimlib_update_command,
    pub completed_commands: size_t,
    pub total_commands: size_t,
}

/// `struct wimlib_progress_info_integrity`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_integrity {
    pub total_bytes: u64,
    pub completed_bytes: u64,
    pub total_chunks: u32,
    pub completed_chunks: u32,
    pub chunk_size: u32,
    pub filename: *const c_char,
}

/// `struct wimlib_progress_info_verify_streams`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_verify_streams {
    pub wimfile: *const c_char,
    pub total_streams: u64,
    pub total_bytes: u64,
    pub completed_streams: u64,
    pub completed_bytes: u64,
}

/// `struct wimlib_progress_info_split`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_progress_info_split {
    pub total_bytes: u64,
    pub completed_bytes: u64,
    pub cur_part_number: c_uint,
    pub total_parts: c_uint,
    pub part_name: *mut c_char,
}

/// `union wimlib_progress_info`, reduced to the members this crate reads. The union
/// is only ever received by pointer from libwim, never allocated here, so leaving
/// out the other (possibly larger) members is harmless.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union wimlib_progress_info {
    pub write_streams: wimlib_progress_info_write_streams,
    pub scan: wimlib_progress_info_scan,
    pub extract: wimlib_progress_info_extract,
    pub update: wimlib_progress_info_update,
    pub integrity: wimlib_progress_info_integrity,
    pub verify_streams: wimlib_progress_info_verify_streams,
    pub split: wimlib_progress_info_split,
}

/// `wimlib_progress_func_t`. The message and return value are C enums (`int`).
pub(crate) type wimlib_progress_func_t = Option<
    unsafe extern "C" fn(
        msg: c_int,
        info: *mut wimlib_progress_info,
        progctx: *mut c_void,
    ) -> c_int,
>;

/// `wimlib_iterate_dir_tree_callback_t`.
pub(crate) type wimlib_iterate_dir_tree_callback_t =
    Option<unsafe extern "C" fn(dentry: *const wimlib_dir_entry, user_ctx: *mut c_void) -> c_int>;

/// `wimlib_iterate_lookup_table_callback_t`.
pub(crate) type wimlib_iterate_lookup_table_callback_t = Option<
    unsafe extern "C" fn(resource: *const wimlib_resource_entry, user_ctx: *mut c_void) -> c_int,
>;

/// `struct wimlib_add_command`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_add_command {
    pub fs_source_path: *mut c_char,
    pub wim_target_path: *mut c_char,
    pub config_file: *mut c_char,
    pub add_flags: c_int,
}

/// `struct wimlib_delete_command`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_delete_command {
    pub wim_path: *mut c_char,
    pub delete_flags: c_int,
}

/// `struct wimlib_rename_command`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct wimlib_rename_command {
    pub wim_source_path: *mut c_char,
    pub wim_target_path: *mut c_char,
    pub rename_flags: c_int,
}

/// The anonymous union inside `struct wimlib_update_command`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union wimlib_update_command_u {
    pub add: wimlib_add_command,
    pub delete_: wimlib_delete_command,
    pub rename: wimlib_rename_command,
}

/// `struct wimlib_update_command`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct wimlib_update_command {
    pub op: c_int,
    pub u: wimlib_update_command_u,
}

/// Opaque `struct wimlib_decompressor`.
#[repr(C)]
pub(crate) struct wimlib_decompressor {
    _private: [u8; 0],
    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

// Linking is set up by build.rs (pkg-config `wimlib`, or plain `-lwim`).
unsafe extern "C" {
    pub(crate) fn wimlib_global_init(init_flags: c_int) -> c_int;
    #[allow(
        dead_code,
        reason = "declared for completeness; the crate never tears libwim down"
    )]
    pub(crate) fn wimlib_global_cleanup();
    pub(crate) fn wimlib_set_print_errors(show_messages: bool) -> c_int;
    pub(crate) fn wimlib_get_error_string(code: c_int) -> *const c_char;
    pub(crate) fn wimlib_get_version_string() -> *const c_char;
    pub(crate) fn wimlib_get_version() -> u32;

    pub(crate) fn wimlib_open_wim_with_progress(
        wim_file: *const c_char,
        open_flags: c_int,
        wim_ret: *mut *mut WIMStruct,
        progfunc: wimlib_progress_func_t,
        progctx: *mut c_void,
    ) -> c_int;
    pub(crate) fn wimlib_create_new_wim(ctype: c_int, wim_ret: *mut *mut WIMStruct) -> c_int;
    pub(crate) fn wimlib_free(wim: *mut WIMStruct);

    pub(crate) fn wimlib_get_wim_info(wim: *mut WIMStruct, info: *mut wimlib_wim_info) -> c_int;
    pub(crate) fn wimlib_get_image_property(
        wim: *const WIMStruct,
        image: c_int,
        property_name: *const c_char,
    ) -> *const c_char;
    pub(crate) fn wimlib_set_image_property(
        wim: *mut WIMStruct,
        image: c_int,
        property_name: *const c_char,
        property_value: *const c_char,
    ) -> c_int;
    pub(crate) fn wimlib_get_xml_data(
        wim: *mut WIMStruct,
        buf_ret: *mut *mut c_void,
        bufsize_ret: *mut size_t,
    ) -> c_int;

    pub(crate) fn wimlib_iterate_lookup_table(
        wim: *mut WIMStruct,
        flags: c_int,
        cb: wimlib_iterate_lookup_table_callback_t,
        user_ctx: *mut c_void,
    ) -> c_int;

    pub(crate) fn wimlib_iterate_dir_tree(
        wim: *mut WIMStruct,
        image: c_int,
        path: *const c_char,
        flags: c_int,
        cb: wimlib_iterate_dir_tree_callback_t,
        user_ctx: *mut c_void,
    ) -> c_int;

    pub(crate) fn wimlib_export_image(
        src_wim: *mut WIMStruct,
        src_image: c_int,
        dest_wim: *mut WIMStruct,
        dest_name: *const c_char,
        dest_description: *const c_char,
        export_flags: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_update_image(
        wim: *mut WIMStruct,
        image: c_int,
        cmds: *const wimlib_update_command,
        num_cmds: size_t,
        update_flags: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_add_image(
        wim: *mut WIMStruct,
        source: *const c_char,
        name: *const c_char,
        config_file: *const c_char,
        add_flags: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_extract_paths(
        wim: *mut WIMStruct,
        image: c_int,
        target: *const c_char,
        paths: *const *const c_char,
        num_paths: size_t,
        extract_flags: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_verify_wim(wim: *mut WIMStruct, verify_flags: c_int) -> c_int;

    pub(crate) fn wimlib_write(
        wim: *mut WIMStruct,
        path: *const c_char,
        image: c_int,
        write_flags: c_int,
        num_threads: c_uint,
    ) -> c_int;
    pub(crate) fn wimlib_overwrite(
        wim: *mut WIMStruct,
        write_flags: c_int,
        num_threads: c_uint,
    ) -> c_int;
    pub(crate) fn wimlib_set_output_compression_type(wim: *mut WIMStruct, ctype: c_int) -> c_int;
    pub(crate) fn wimlib_set_output_chunk_size(wim: *mut WIMStruct, chunk_size: u32) -> c_int;

    pub(crate) fn wimlib_set_output_pack_compression_type(
        wim: *mut WIMStruct,
        ctype: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_set_output_pack_chunk_size(wim: *mut WIMStruct, chunk_size: u32) -> c_int;
    pub(crate) fn wimlib_set_wim_info(
        wim: *mut WIMStruct,
        info: *const wimlib_wim_info,
        which: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_split(
        wim: *mut WIMStruct,
        swm_name: *const c_char,
        part_size: u64,
        write_flags: c_int,
    ) -> c_int;
    pub(crate) fn wimlib_reference_resource_files(
        wim: *mut WIMStruct,
        resource_wimfiles_or_globs: *const *const c_char,
        count: c_uint,
        ref_flags: c_int,
        open_flags: c_int,
    ) -> c_int;

    pub(crate) fn wimlib_create_decompressor(
        ctype: c_int,
        max_block_size: size_t,
        decompressor_ret: *mut *mut wimlib_decompressor,
    ) -> c_int;
    pub(crate) fn wimlib_decompress(
        compressed_data: *const c_void,
        compressed_size: size_t,
        uncompressed_data: *mut c_void,
        uncompressed_size: size_t,
        decompressor: *mut wimlib_decompressor,
    ) -> c_int;
    pub(crate) fn wimlib_free_decompressor(decompressor: *mut wimlib_decompressor);

    pub(crate) fn wimlib_register_progress_function(
        wim: *mut WIMStruct,
        progfunc: wimlib_progress_func_t,
        progctx: *mut c_void,
    );
}

#[cfg(test)]
mod layout_tests {
    //! Compares the Rust layouts above with the installed header by compiling a tiny C
    //! program. Skipped (with a note) when no C compiler is available.

    use super::*;
    use std::mem::{offset_of, size_of};
    use std::process::Command;

    const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <wimlib.h>
#define S(t) printf("size " #t " %zu\n", sizeof(struct t))
#define O(t, f) printf("off " #t " " #f " %zu\n", offsetof(struct t, f))
int main(void) {
    S(wimlib_wim_info); O(wimlib_wim_info, image_count); O(wimlib_wim_info, chunk_size);
    O(wimlib_wim_info, part_number); O(wimlib_wim_info, compression_type);
    O(wimlib_wim_info, total_bytes); O(wimlib_wim_info, reserved);
    S(wimlib_resource_entry); O(wimlib_resource_entry, sha1_hash);
    O(wimlib_resource_entry, part_number); O(wimlib_resource_entry, raw_resource_offset_in_wim);
    S(wimlib_stream_entry); O(wimlib_stream_entry, resource);
    S(wimlib_dir_entry); O(wimlib_dir_entry, full_path); O(wimlib_dir_entry, attributes);
    O(wimlib_dir_entry, num_named_streams); O(wimlib_dir_entry, hard_link_group_id);
    O(wimlib_dir_entry, creation_time); O(wimlib_dir_entry, unix_uid);
    O(wimlib_dir_entry, object_id); O(wimlib_dir_entry, creation_time_high);
    O(wimlib_dir_entry, reserved); O(wimlib_dir_entry, streams);
    S(wimlib_progress_info_write_streams); O(wimlib_progress_info_write_streams, completed_bytes);
    O(wimlib_progress_info_write_streams, completed_compressed_bytes);
    S(wimlib_progress_info_scan); O(wimlib_progress_info_scan, num_bytes_scanned);
    S(wimlib_progress_info_extract); O(wimlib_progress_info_extract, total_bytes);
    O(wimlib_progress_info_extract, completed_bytes); O(wimlib_progress_info_extract, end_file_count);
    S(wimlib_progress_info_update); O(wimlib_progress_info_update, total_commands);
    S(wimlib_progress_info_integrity); O(wimlib_progress_info_integrity, completed_bytes);
    S(wimlib_progress_info_verify_streams); O(wimlib_progress_info_verify_streams, completed_bytes);
    S(wimlib_progress_info_split); O(wimlib_progress_info_split, cur_part_number);
    O(wimlib_progress_info_split, part_name);
    {
        size_t at = offsetof(struct wimlib_resource_entry, reference_count) + 4;
        struct wimlib_resource_entry r;
        unsigned w;
#define B(f) memset(&r, 0, sizeof r); r.f = 1; memcpy(&w, (char *)&r + at, 4); printf("bit " #f " %u\n", w)
        B(is_compressed); B(is_missing); B(packed);
    }
    S(wimlib_add_command); O(wimlib_add_command, add_flags);
    S(wimlib_delete_command); O(wimlib_delete_command, delete_flags);
    S(wimlib_rename_command); O(wimlib_rename_command, rename_flags);
    S(wimlib_update_command); O(wimlib_update_command, add); O(wimlib_update_command, rename);
    return 0;
}
"#;

    fn rust_layout() -> Vec<String> {
        let mut v = Vec::new();
        macro_rules! s {
            ($t:ident) => {
                v.push(format!("size {} {}", stringify!($t), size_of::<$t>()))
            };
        }
        macro_rules! o {
            ($t:ident, $f:ident) => {
                v.push(format!("off {} {} {}", stringify!($t), stringify!($f), offset_of!($t, $f)))
            };
            ($t:ident, $name:ident => $($f:tt)+) => {
                v.push(format!("off {} {} {}", stringify!($t), stringify!($name), offset_of!($t, $($f)+)))
            };
        }
        s!(wimlib_wim_info);
        o!(wimlib_wim_info, image_count);
        o!(wimlib_wim_info, chunk_size);
        o!(wimlib_wim_info, part_number);
        o!(wimlib_wim_info, compression_type);
        o!(wimlib_wim_info, total_bytes);
        o!(wimlib_wim_info, reserved);
        s!(wimlib_resource_entry);
        o!(wimlib_resource_entry, sha1_hash);
        o!(wimlib_resource_entry, part_number);
        o!(wimlib_resource_entry, raw_resource_offset_in_wim);
        s!(wimlib_stream_entry);
        o!(wimlib_stream_entry, resource);
        s!(wimlib_dir_entry);
        o!(wimlib_dir_entry, full_path);
        o!(wimlib_dir_entry, attributes);
        o!(wimlib_dir_entry, num_named_streams);
        o!(wimlib_dir_entry, hard_link_group_id);
        o!(wimlib_dir_entry, creation_time);
        o!(wimlib_dir_entry, unix_uid);
        o!(wimlib_dir_entry, object_id);
        o!(wimlib_dir_entry, creation_time_high);
        o!(wimlib_dir_entry, reserved);
        o!(wimlib_dir_entry, streams);
        s!(wimlib_progress_info_write_streams);
        o!(wimlib_progress_info_write_streams, completed_bytes);
        o!(
            wimlib_progress_info_write_streams,
            completed_compressed_bytes
        );
        s!(wimlib_progress_info_scan);
        o!(wimlib_progress_info_scan, num_bytes_scanned);
        s!(wimlib_progress_info_extract);
        o!(wimlib_progress_info_extract, total_bytes);
        o!(wimlib_progress_info_extract, completed_bytes);
        o!(wimlib_progress_info_extract, end_file_count);
        s!(wimlib_progress_info_update);
        o!(wimlib_progress_info_update, total_commands);
        s!(wimlib_progress_info_integrity);
        o!(wimlib_progress_info_integrity, completed_bytes);
        s!(wimlib_progress_info_verify_streams);
        o!(wimlib_progress_info_verify_streams, completed_bytes);
        s!(wimlib_progress_info_split);
        o!(wimlib_progress_info_split, cur_part_number);
        o!(wimlib_progress_info_split, part_name);
        v.push(format!("bit is_compressed {RESOURCE_FLAG_IS_COMPRESSED}"));
        v.push(format!("bit is_missing {RESOURCE_FLAG_IS_MISSING}"));
        v.push(format!("bit packed {RESOURCE_FLAG_PACKED}"));
        s!(wimlib_add_command);
        o!(wimlib_add_command, add_flags);
        s!(wimlib_delete_command);
        o!(wimlib_delete_command, delete_flags);
        s!(wimlib_rename_command);
        o!(wimlib_rename_command, rename_flags);
        s!(wimlib_update_command);
        o!(wimlib_update_command, add => u.add);
        o!(wimlib_update_command, rename => u.rename);
        v
    }

    #[test]
    fn struct_layouts_match_the_installed_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("layout.c");
        let exe = dir.path().join("layout");
        std::fs::write(&src, C_PROGRAM).expect("write C source");
        let status = Command::new("cc").arg(&src).arg("-o").arg(&exe).status();
        match status {
            Ok(s) if s.success() => {}
            other => {
                eprintln!("skipping layout check: cannot compile against wimlib.h ({other:?})");
                return;
            }
        }
        let out = Command::new(&exe).output().expect("run layout program");
        let c_text = String::from_utf8(out.stdout).expect("utf8");
        let c_lines: Vec<&str> = c_text.lines().collect();
        let rust_lines = rust_layout();
        assert_eq!(c_lines.len(), rust_lines.len(), "C: {c_lines:#?}");
        for (c, r) in c_lines.iter().zip(&rust_lines) {
            assert_eq!(c, r, "layout mismatch");
        }
    }

    #[test]
    fn dir_entry_layout_has_known_size_on_lp64() {
        if size_of::<usize>() == 8 {
            assert_eq!(size_of::<wimlib_dir_entry>(), 248);
            assert_eq!(size_of::<wimlib_stream_entry>(), 128);
            assert_eq!(
                offset_of!(wimlib_stream_entry, resource)
                    + offset_of!(wimlib_resource_entry, sha1_hash),
                32
            );
            assert_eq!(size_of::<wimlib_update_command>(), 40);
            assert_eq!(size_of::<wimlib_wim_info>(), 88);
        }
    }
}
