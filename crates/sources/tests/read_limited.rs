mod common;

use chittysync_sources::{parse_todo_list, read_limited, ReadError};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;

#[test]
fn reads_within_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.json");
    fs::write(&path, br#"[{"content":"a","status":"pending"}]"#).unwrap();
    let bytes = read_limited(&path, 1024).unwrap();
    assert_eq!(parse_todo_list(&bytes).unwrap().items.len(), 1);
    // Exactly at the limit is fine.
    assert_eq!(read_limited(&path, bytes.len() as u64).unwrap(), bytes);
}

#[test]
fn refuses_a_file_above_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.json");
    fs::write(&path, vec![b' '; 2000]).unwrap();
    match read_limited(&path, 1999) {
        Err(ReadError::TooLarge { size, limit }) => assert_eq!((size, limit), (2000, 1999)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let err = read_limited(&path, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is 2000 bytes, above the limit of 10 bytes"
    );
}

#[test]
fn io_errors_keep_their_kind() {
    let tmp = tempfile::tempdir().unwrap();
    match read_limited(&tmp.path().join("missing.json"), 10) {
        Err(ReadError::Io(e)) => assert_eq!(e.kind(), ErrorKind::NotFound),
        other => panic!("expected an io error, got {other:?}"),
    }

    let path = tmp.path().join("locked.json");
    fs::write(&path, b"[]").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let result = read_limited(&path, 10);
    if common::permissions_are_bypassed(tmp.path()) {
        // Running as root: chmod 000 does not stop the read.
        assert_eq!(result.unwrap(), b"[]");
    } else {
        match result {
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), ErrorKind::PermissionDenied),
            other => panic!("expected permission denied, got {other:?}"),
        }
    }
}

/// Runs `read_limited` on another thread; a read that never returns fails the
/// test after a generous guard instead of hanging it.
fn read_guarded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read_limited(&path, limit));
    });
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("read_limited did not return: it blocked or read forever"))
}

#[allow(unsafe_code)]
fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("HEAD");
    mkfifo(&path);
    match read_guarded(&path, 4096) {
        Err(ReadError::Io(e)) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert_eq!(e.to_string(), "not a regular file but a FIFO");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_link_to_a_device_or_a_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let zero = tmp.path().join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    match read_guarded(&zero, 4096) {
        Err(ReadError::Io(e)) => assert_eq!(e.to_string(), "not a regular file but a device"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    match read_guarded(tmp.path(), 4096) {
        Err(ReadError::Io(e)) => assert_eq!(e.to_string(), "not a regular file but a folder"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
