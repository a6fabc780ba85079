//! The registry of open temporary files, alone in its process (other tests writing files
//! would see their temporary files removed): what a signal handler removes.

use actionfinder_snapshots::partial::{remove_registered, Partial};

#[test]
fn open_temporary_files_are_removed_on_request_and_committed_ones_are_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let done = Partial::new(&dir.path().join("done.h5"));
    std::fs::write(done.path(), b"whole").unwrap();
    done.commit().unwrap();
    let open = Partial::keeping_extension(&dir.path().join("plot.png"));
    std::fs::write(open.path(), b"half").unwrap();
    remove_registered();
    assert!(!open.path().exists(), "the open temporary file is removed");
    assert_eq!(std::fs::read(dir.path().join("done.h5")).unwrap(), b"whole");
}
